"""`esi cleanup`: refresh expired tokens, remove dead ones and old pending logins."""

from __future__ import annotations

from typing import Annotated

import typer

from esi_cli.console import console
from esi_cli.context import one_line_errors, sso_app


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
