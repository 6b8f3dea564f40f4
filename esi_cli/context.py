"""What commands share: settings, the SSO app, the ESI client, one-line errors."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from esi_cli.console import EXIT_FAILED, EXIT_USAGE, fail
from esi_client.configuration import Settings, load_settings

_flags: dict[str, Any] = {}
_debug = False

if TYPE_CHECKING:
    from esi_auth.app import SSOApp
    from esi_client import ESIClient


def set_global_flags(flags: dict[str, Any], debug: bool) -> None:
    global _debug
    _flags.clear()
    _flags.update(flags)
    _debug = debug


def settings() -> Settings:
    return load_settings(_flags)


def sso_app(client_id: str | None = None) -> SSOApp:
    from esi_auth import SSOApp, SSOConfig
    from esi_auth.store.configured import store_from_settings

    current = settings()
    chosen = client_id or current.client_id
    if not chosen:
        fail("no SSO client id: pass --client-id, set ESI_CLIENT_ID or client_id in the config file")
    config = SSOConfig(
        client_id=chosen,
        client_secret=current.client_secret,
        callback_url=current.callback_url,
        login_url=current.login_url,
    )
    app = SSOApp(config, store_from_settings(current))
    if current.browser:
        command = shlex.split(current.browser)

        def open_with_command(url: str) -> subprocess.Popen[bytes]:
            # watched by the login: a command that fails ends the wait, named
            return subprocess.Popen([*command, url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        app.browser_options["open_browser"] = open_with_command
    return app


def esi_client(auth: Any = None) -> ESIClient:
    from esi_client import ESIClient

    current = settings()
    limits = None
    if current.limits:
        if not current.limits.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"limits must be a redis:// URL, not {current.limits.split(':', 1)[0]}:…")
        from esi_client.shared_limits import RedisLimits

        limits = RedisLimits(current.limits, app=current.client_id or current.app_name or "esikit-cli")
    return ESIClient(
        app_name=current.app_name or "esikit-cli",
        contact=current.contact or "esikit-cli-user",
        base_url=current.base_url,
        auth=auth,
        limits=limits,
    )


# Which extra brings a module the CLI imports on demand.
EXTRAS = {
    "openapi_python_client": "generate",
    "ruff": "generate",
    "uvicorn": "fake",
    "starlette": "fake",
    "jsonschema": "fake",
    "redis": "redis",
    "psycopg": "postgres",
    "celery": "celery",
    "opentelemetry": "otel",
}


def missing_extra(exc: ModuleNotFoundError) -> str:
    """One line naming the extra to install for a module that is not there."""
    top = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return f"a module this needs is not installed: {exc.name}"
    return f"this needs the [{extra}] extra ({top} is not installed): pip install 'esikit[{extra}]'"


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Known failures print one line (the traceback with --debug) and exit with a status."""
    from sqlalchemy.exc import DBAPIError

    from esi_auth.errors import AuthError
    from esi_client.errors import ConfigurationError, ESIError

    try:
        yield
    except typer.Exit:
        raise
    except ModuleNotFoundError as exc:
        if _debug:
            raise
        fail(missing_extra(exc), EXIT_USAGE)
    except ConfigurationError as exc:
        if _debug:
            raise
        fail(str(exc), EXIT_USAGE)
    except DBAPIError as exc:  # the token store's database failed (an outage, say)
        if _debug:
            raise
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        fail(f"the token store's database failed: {reason}", EXIT_FAILED)
    except (AuthError, ESIError, LookupError, ValueError) as exc:
        if _debug:
            raise
        status = EXIT_USAGE if isinstance(exc, LookupError | ValueError) else EXIT_FAILED
        fail(str(exc) or type(exc).__name__, status)
