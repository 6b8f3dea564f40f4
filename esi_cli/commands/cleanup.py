"""`esi cleanup` and `esi config show`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from esi_cli.console import console
from esi_cli.context import one_line_errors, settings, sso_app

config_app = typer.Typer(
    help="The CLI's configuration (file < ESI_* environment < flags).", no_args_is_help=True
)


def cleanup_command(
    subset: Annotated[
        float | None, typer.Option(help="Visit only this fraction of tokens (rotating).")
    ] = None,
    callbacks: Annotated[
        bool, typer.Option("--callbacks", help="Remove old pending logins instead.")
    ] = False,
    client_id: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Refresh expired tokens and remove dead ones (or old pending logins)."""
    from esi_auth import cleanup

    with one_line_errors():
        app = sso_app(client_id)
        if callbacks:
            summary = cleanup.cleanup_callbackredirect(app)
        elif subset is not None:
            summary = cleanup.cleanup_token_subset(app, subset)
        else:
            summary = cleanup.cleanup_token(app)
    console.print(", ".join(f"{k} {v}" for k, v in summary.as_dict().items()))


@config_app.command("show")
def show_command() -> None:
    """Print the settings in force (secrets shown only as set / not set)."""
    from esi_cli.settings import config_path

    console.print(escape(f"config file: {config_path()}"), highlight=False)
    for key, value in settings().shown().items():
        console.print(escape(f"{key} = {value}"), highlight=False)
