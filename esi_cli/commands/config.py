"""`esi config show`: the settings in force."""

from __future__ import annotations

import typer
from rich.markup import escape

from esi_cli.console import console
from esi_cli.context import one_line_errors, settings

config_app = typer.Typer(
    help="The CLI's configuration (file < ESI_* environment < flags).", no_args_is_help=True
)


@config_app.command("show")
def show_command() -> None:
    """Print the settings in force (secrets shown only as set / not set)."""
    from esi_auth.store.configured import default_store_choice
    from esi_client.configuration import config_path

    with one_line_errors():
        current = settings()
        path = config_path()
        console.print(escape(f"config file: {path}{'' if path.exists() else ' (none)'}"), highlight=False)
        for key, value in current.shown().items():
            console.print(escape(f"{key} = {value}"), highlight=False)
        if current.store == "default":
            console.print(escape(f"default store: {default_store_choice().describe()}"), highlight=False)
