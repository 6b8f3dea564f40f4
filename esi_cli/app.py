"""The `esi` application: one typer app, a module per command group."""

from __future__ import annotations

import typer

from esi_cli.commands.fake_server import fake_server_command
from esi_cli.commands.generate import generate_command
from esi_cli.commands.spec import spec_app

app = typer.Typer(
    name="esi",
    help="esikit: EVE Online's ESI from the command line.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command("generate")(generate_command)
app.add_typer(spec_app, name="spec")
app.command("fake-server")(fake_server_command)


def main() -> None:
    app()
