"""`esi login` and `esi tokens …`: log in with PKCE and a loopback redirect, manage tokens."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from esi_cli.console import console, err_console, fail, print_rows
from esi_cli.context import one_line_errors, sso_app

if TYPE_CHECKING:
    from esi_auth.app import SSOApp
    from esi_auth.token import Token

tokens_app = typer.Typer(
    help="List, inspect, refresh, remove and revoke stored tokens.", no_args_is_help=True
)


def _checked_scopes(given: list[str]) -> list[str]:
    """Scope names as words (`-s a b`, `-s "a b"`, `-s a -s b`), each one the spec knows."""
    import difflib

    from esi_client.operations import all_operations

    words = list(dict.fromkeys(word for item in given for word in item.replace(",", " ").split()))
    known = {scope for op in all_operations() for scope in op.scopes} | {"publicData"}
    for word in words:
        if word not in known:
            close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else " (esi ops lists each operation's scopes)"
            fail(f"unknown scope {word!r}{hint}")
    return words


def login_command(
    scopes: Annotated[
        list[str] | None, typer.Option("--scopes", "-s", help="Scopes (repeat, or space-separated).")
    ] = None,
    more_scopes: Annotated[
        list[str] | None, typer.Argument(help="More scopes, as words.", show_default=False)
    ] = None,
    client_id: Annotated[str | None, typer.Option(help="SSO application (default: from the config).")] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the URL; paste the redirect back.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the login.")] = 300,
) -> None:
    """Log in to EVE SSO (PKCE, loopback redirect) and store the token."""
    wanted = _checked_scopes([*(scopes or []), *(more_scopes or [])])
    with one_line_errors():
        app = sso_app(client_id)
        options: dict[str, object] = {
            "announce": lambda url: err_console.print(
                escape(f"Open this URL to log in:\n{url}"), soft_wrap=True
            ),
            "timeout": timeout,
        }
        if no_browser:
            options["open_browser"] = lambda url: False
            options["paste"] = lambda: typer.prompt("Paste the address your browser was sent to")
        token = app.login_with_browser(wanted, **options)
    count = len(token.scopes)
    console.print(
        f"Logged in as [bold]{escape(token.character_name)}[/] ({token.character_id}), "
        f"{count} scope{'' if count == 1 else 's'}; stored in {escape(app.store.describe())}",
        highlight=False,
    )


def _expires_in(expires_at: float) -> str:
    seconds = int(expires_at - time.time())
    return "expired" if seconds <= 0 else f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"


@tokens_app.command("list")
def list_command(client_id: Annotated[str | None, typer.Option(help="SSO application.")] = None) -> None:
    """Stored tokens: character, scopes, expiry, store."""
    with one_line_errors():
        app = sso_app(client_id)
        tokens = app.tokens().all()
    if not tokens:
        console.print(f"No stored tokens in {escape(app.store.describe())}.", highlight=False)
        return
    rows = [
        [
            str(token.id),
            f"{token.character_name} ({token.character_id})",
            str(len(token.scopes)),
            _expires_in(token.expires_at),
            app.store.engine.url.render_as_string(hide_password=True),
        ]
        for token in tokens
    ]
    print_rows(["id", "character", "scopes", "expires in", "store"], rows)


def _token(app: SSOApp, token_id: int) -> Token:
    """The stored token, only if it is this application's (a store may be shared by several)."""
    token = app.store.get(token_id)
    if token is None:
        fail(f"no stored token {token_id}")
    client_id = app.config.client_id
    if token.client_id != client_id:
        fail(
            f"token {token_id} belongs to the application {token.client_id}, not {client_id}; "
            f"pass --client-id {token.client_id} to act on it"
        )
    return token


@tokens_app.command("show")
def show_command(token_id: int, client_id: Annotated[str | None, typer.Option()] = None) -> None:
    """One token's character, owner hash, scopes and expiry (never its secrets)."""
    with one_line_errors():
        token = _token(sso_app(client_id), token_id)
    for name in ("character_name", "character_id", "owner_hash", "client_id"):
        console.print(escape(f"{name}: {getattr(token, name)}"), highlight=False)
    console.print(f"expires in: {_expires_in(token.expires_at)}")
    console.print(escape("scopes:\n  " + "\n  ".join(token.scopes)), highlight=False)


@tokens_app.command("refresh")
def refresh_command(token_id: int, client_id: Annotated[str | None, typer.Option()] = None) -> None:
    """Refresh a token now."""
    with one_line_errors():
        app = sso_app(client_id)
        token = app.refresher.refresh(_token(app, token_id), force=True)
    console.print(f"Refreshed token {token_id}; expires in {_expires_in(token.expires_at)}")


@tokens_app.command("remove")
def remove_command(token_id: int, client_id: Annotated[str | None, typer.Option()] = None) -> None:
    """Forget a token here (EVE SSO still knows it: see revoke)."""
    with one_line_errors():
        app = sso_app(client_id)
        _token(app, token_id)
        app.store.delete(token_id)
    console.print(f"Removed token {token_id}")


@tokens_app.command("revoke")
def revoke_command(token_id: int, client_id: Annotated[str | None, typer.Option()] = None) -> None:
    """Revoke a token at EVE SSO and forget it."""
    with one_line_errors():
        app = sso_app(client_id)
        app.revoke(_token(app, token_id))
    console.print(f"Revoked token {token_id}")
