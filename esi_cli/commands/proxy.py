"""`esi proxy`: one caching, rate-limiting ESI endpoint for tools in any language;
`esi proxy-keys`: the API keys it asks for off 127.0.0.1."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

from esi_cli.console import console, fail
from esi_cli.context import one_line_errors, settings

proxy_keys_app = typer.Typer(help="API keys for `esi proxy` (required when it binds beyond 127.0.0.1).")

KeysFile = Annotated[
    Path | None, typer.Option("--keys-file", help="The keys' digests (default: the config directory's).")
]


def proxy_command(
    host: Annotated[
        str, typer.Option(help="Address to bind (beyond 127.0.0.1: API keys required).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
    redis: Annotated[
        str | None,
        typer.Option("--redis", help="redis:// URL: cache, coalescing and limits shared by every proxy."),
    ] = None,
    workers: Annotated[int, typer.Option(help="Processes to run (more than one needs --redis).")] = 1,
    keys_file: KeysFile = None,
) -> None:
    """Serve ESI through esikit's runtime: `curl localhost:8090/status` instead of ESI's own."""
    from esi_proxy.server import HOST_ENV, KEYS_ENV, REDIS_ENV, SESSION_KEY_ENV, ProxyOptions, key_ring

    if workers < 1:
        fail("--workers must be 1 or more")
    if workers > 1 and not redis:
        fail("--workers N shares ESI's limits, cache and coalescing through Redis: add --redis URL")
    if redis and not redis.startswith(("redis://", "rediss://", "unix://")):
        fail(f"--redis must be a redis:// URL, not {redis.split(':', 1)[0]}:…")
    options = ProxyOptions(host=host, redis=redis, keys_file=keys_file)
    with one_line_errors():
        current = settings()
        try:
            ring = key_ring(options)
        except PermissionError as refused:
            fail(str(refused))
    # Every worker builds its app from the environment: the settings as this command read them.
    os.environ.update(
        {"ESI_BASE_URL": current.base_url, "ESI_LOGIN_URL": current.login_url, "ESI_STORE": current.store}
    )
    os.environ.update({HOST_ENV: host, REDIS_ENV: redis or "", KEYS_ENV: str(keys_file or "")})
    os.environ.setdefault(SESSION_KEY_ENV, secrets.token_urlsafe(32))  # one for every worker
    keys = f"required ({len(ring.names)} known)" if ring else "not required (127.0.0.1 only)"
    characters = "the token store's" if current.client_id else "none (no SSO client id); bearer tokens pass"
    shown_host = f"[{host}]" if ":" in host else host
    console.print(
        f"esi proxy on http://{shown_host}:{port} → {current.base_url}\n"
        f"  cache and limits: {'Redis ' + redis.split('@')[-1] if redis else 'this process (memory)'}; "
        f"{workers} worker{'s' if workers > 1 else ''}\n"
        f"  API keys: {keys}\n"
        f"  characters: {characters}\n"
        f"  /healthz, /metrics, status page /_proxy/, login /_proxy/login (Ctrl-C to stop)",
        highlight=False,
    )
    import uvicorn

    uvicorn.run(
        "esi_proxy.server:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,  # a request line can hold a token (`?token=`, as old tools send it)
        date_header=False,  # ESI's Date is forwarded: with its Expires, it says how fresh an answer is
        server_header=False,
        # bounded: a client's headers over 16 KiB are refused by the HTTP parser itself
        h11_max_incomplete_event_size=16 * 1024,
    )


@proxy_keys_app.command("add")
def add_key(
    name: Annotated[str, typer.Argument(help="Who the key is for (one word).")], keys_file: KeysFile = None
) -> None:
    """A new API key: printed once, only its digest is kept."""
    from esi_proxy.keys import KeyRing
    from esi_proxy.server import default_keys_file

    ring = KeyRing(keys_file or default_keys_file())
    try:
        key = ring.add(name)
    except ValueError as exc:
        fail(str(exc))
    typer.echo(key)
    typer.echo(f"(the key for {name}: shown this once; its digest is in {ring.path})", err=True)


@proxy_keys_app.command("list")
def list_keys(keys_file: KeysFile = None) -> None:
    """The keys' names (the keys themselves are not kept)."""
    from esi_proxy.keys import KeyRing
    from esi_proxy.server import default_keys_file

    ring = KeyRing(keys_file or default_keys_file())
    for name in sorted(ring.names.values()):
        typer.echo(name)
