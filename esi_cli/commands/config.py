"""`esi config show`: the settings in force."""

from __future__ import annotations

import typer
from rich.markup import escape

from esi_cli.console import console
from esi_cli.context import settings

config_app = typer.Typer(
    help="The CLI's configuration (file < ESI_* environment < flags).", no_args_is_help=True
)


@config_app.command("show")
def show_command() -> None:
    """Print the settings in force (secrets shown only as set / not set)."""
    from esi_cli.settings import config_path

    console.print(escape(f"config file: {config_path()}"), highlight=False)
    for key, value in settings().shown().items():
        console.print(escape(f"{key} = {value}"), highlight=False)
