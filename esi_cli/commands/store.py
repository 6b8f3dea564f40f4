"""`esi store upgrade`: bring the token store's schema to this version (it also happens on open)."""

from __future__ import annotations

import typer

from esi_cli.console import console, fail
from esi_cli.context import one_line_errors, settings

store_app = typer.Typer(help="The token store.", no_args_is_help=True)


@store_app.command("upgrade")
def upgrade_command() -> None:
    """Migrate the configured store's schema to the newest revision (Alembic)."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError

    from esi_auth.store.migrate import HEAD, upgrade

    current = settings()
    if current.store == "default":
        from platformdirs import user_data_path

        url = f"sqlite:///{user_data_path('esikit') / 'tokens.sqlite'}"
    else:
        url = current.store
    with one_line_errors():
        try:
            before = upgrade(create_engine(url))  # AuthError (a newer store): one line
        except DBAPIError as exc:
            fail(f"the token store cannot be opened: {str(exc.orig).strip().splitlines()[0]}", 1)
    if before == HEAD:
        console.print(f"The token store is up to date (revision {HEAD}).")
    else:
        console.print(f"Upgraded the token store from revision {before or '(empty)'} to {HEAD}.")
