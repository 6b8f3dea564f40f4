"""The `esi` application: one typer app, a module per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from esi_cli.commands.auth import login_command, tokens_app
from esi_cli.commands.call import call_command, ops_command
from esi_cli.commands.cleanup import cleanup_command
from esi_cli.commands.config import config_app
from esi_cli.commands.fake_server import fake_server_command
from esi_cli.commands.generate import generate_command
from esi_cli.commands.proxy import proxy_command, proxy_keys_app
from esi_cli.commands.spec import spec_app
from esi_cli.commands.store import store_app
from esi_cli.context import set_global_flags

app = typer.Typer(
    name="esi",
    help="esikit: EVE Online's ESI from the command line.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main_options(
    store: Annotated[str | None, typer.Option(help="Token store: 'default' or an SQLAlchemy URL.")] = None,
    base_url: Annotated[str | None, typer.Option(help="ESI base URL.")] = None,
    login_url: Annotated[str | None, typer.Option(help="EVE SSO base URL.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    set_global_flags({"store": store, "base_url": base_url, "login_url": login_url}, debug)


app.command("generate")(generate_command)
app.add_typer(spec_app, name="spec")
app.command("fake-server")(fake_server_command)
app.command("login")(login_command)
app.add_typer(tokens_app, name="tokens")
app.command("ops")(ops_command)
app.command(
    "call",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)(call_command)
app.command("cleanup")(cleanup_command)
app.command("proxy")(proxy_command)
app.add_typer(proxy_keys_app, name="proxy-keys")
app.add_typer(config_app, name="config")
app.add_typer(store_app, name="store")


def main() -> None:
    app()
