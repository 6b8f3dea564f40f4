"""esikit's configuration, read the same way by ESIClient, esi_auth's SSOApp, the web views and
the `esi` CLI: the config file, then `ESI_*` environment variables, then arguments.

The file is `~/.config/esikit/config.toml` (the platform's config directory), or the one
`ESI_CONFIG` names, for example:

    client_id = "your-sso-client-id"
    contact = "you@example.com"
    base_url = "http://127.0.0.1:8089"    # ESI (the fake, a proxy, a test tenant)
    login_url = "http://127.0.0.1:8089"   # EVE SSO
    store = "default"          # or an SQLAlchemy URL: sqlite:///..., postgresql+psycopg://...
    secret_key_file = "~/.config/esikit/store.key"   # the Fernet key of a URL store's secrets
    # secrets = "plaintext"    # or keep a URL store's secrets unencrypted, knowingly
    # limits = "redis://redis:6379/0"   # share ESI's limits with the app's workers

Every key is also an environment variable: `ESI_CLIENT_ID`, `ESI_BASE_URL`, `ESI_LOGIN_URL`, ...
The store's key may come from `ESI_SECRET_KEY`; it is never taken on a command line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from attrs import asdict, define, field, fields

from esi_client.errors import ConfigurationError

ESI_BASE_URL = "https://esi.evetech.net"
LOGIN_URL = "https://login.eveonline.com"
DEFAULT_CALLBACK_URL = "http://localhost:8080/callback"
ENV_PREFIX = "ESI_"
CONFIG_ENV = "ESI_CONFIG"


@define
class Settings:
    """Every setting esikit reads; `None` where the reader has its own default."""

    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    callback_url: str = DEFAULT_CALLBACK_URL
    store: str = "default"
    base_url: str = ESI_BASE_URL
    login_url: str = LOGIN_URL
    app_name: str | None = None
    contact: str | None = None
    browser: str | None = None  # a command to open URLs with; default: the system browser
    secret_key: str | None = field(default=None, repr=False)  # from ESI_SECRET_KEY or the file
    secret_key_file: str | None = None
    secrets: str | None = None  # "plaintext" to store a URL store's secrets unencrypted
    limits: str | None = None  # a redis:// URL: ESI's limits shared with the app's other processes

    def shown(self) -> dict[str, Any]:
        """For `esi config show`: every setting; secrets only as set / not set, and the store
        URL without its password."""
        data = asdict(self)
        data["client_secret"] = "(set)" if self.client_secret else "(not set)"
        data["secret_key"] = "(set)" if self.secret_key else "(not set)"
        if self.store != "default":
            from sqlalchemy.engine import make_url

            try:
                data["store"] = make_url(self.store).render_as_string(hide_password=True)
            except Exception:
                data["store"] = self.store.split(":", 1)[0] + ":…"
        return data

    def store_key(self) -> str | None:
        """The Fernet key of the store: ESI_SECRET_KEY / secret_key, else the key file."""
        if self.secret_key:
            return self.secret_key
        if self.secret_key_file:
            path = Path(self.secret_key_file).expanduser()
            try:
                return path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigurationError(f"secret_key_file {path}: {exc.strerror or exc}") from None
        return None


SETTING_NAMES = tuple(f.name for f in fields(Settings))


def config_path() -> Path:
    """The config file in force: `$ESI_CONFIG`, else the platform's config directory's."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit).expanduser()
    from platformdirs import user_config_path

    return user_config_path("esikit") / "config.toml"


def _unknown_key(path: Path, key: str, line: int | None) -> ConfigurationError:
    import difflib  # here, not at the top: only a mistake pays for it, never a cold start

    where = f"{path}, line {line}" if line else str(path)
    closest = difflib.get_close_matches(key, SETTING_NAMES, n=1, cutoff=0.5)
    hint = f"; did you mean {closest[0]!r}?" if closest else f" (known: {', '.join(SETTING_NAMES)})"
    return ConfigurationError(f"{where}: unknown setting {key!r}{hint}")


def _line_of(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.split("=", 1)[0].strip().strip("\"'") == key:
            return number
    return None


def read_config_file(path: Path | None = None) -> dict[str, str]:
    """The file's settings, checked: a TOML error, an unknown key or a value that is not a
    string names the file and the line. A file ESI_CONFIG names must exist."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if os.environ.get(CONFIG_ENV):
            raise ConfigurationError(f"{CONFIG_ENV} names {path}, which does not exist") from None
        return {}
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    import tomllib  # here: most processes have no file, and a cold start should not pay

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib says "(at line 3, column 13)"; a value without quotes is the usual cause.
        hint = '(values are quoted: key = "value")'
        raise ConfigurationError(f"{path}: not valid TOML: {exc} {hint}") from None
    values: dict[str, str] = {}
    for key, value in data.items():
        if key not in SETTING_NAMES:
            raise _unknown_key(path, key, _line_of(text, key))
        if not isinstance(value, str):
            line = _line_of(text, key)
            where = f"{path}, line {line}" if line else str(path)
            raise ConfigurationError(f"{where}: {key} must be a string, not {type(value).__name__}")
        values[key] = value
    return values


def load_settings(arguments: dict[str, Any] | None = None) -> Settings:
    """The file, then `ESI_<NAME>` environment variables, then `arguments` (None is unset)."""
    values: dict[str, Any] = dict(read_config_file())
    for name in SETTING_NAMES:
        env = os.environ.get(f"{ENV_PREFIX}{name.upper()}")
        if env is not None:
            values[name] = env
    for name, value in (arguments or {}).items():
        if value is None:
            continue
        if name not in SETTING_NAMES:
            raise _unknown_key(Path("arguments"), name, None)
        values[name] = value
    return Settings(**values)


def configured(name: str, default: str) -> str:
    """One setting as configured (environment, then file), else `default`: how ESIClient and
    SSOConfig find `base_url` and `login_url` when none is passed."""
    env = os.environ.get(f"{ENV_PREFIX}{name.upper()}")
    if env:
        return env
    value = read_config_file().get(name)
    return value if value else default
