"""Run in a pseudo-terminal by the decorator tests: token_required asks which character."""

from __future__ import annotations

import sys

from esi_auth import SQLTokenStore, SSOApp, SSOConfig
from esi_auth.decorators import token_required

app = SSOApp(
    SSOConfig(client_id=sys.argv[3], login_url=sys.argv[2]),
    SQLTokenStore(sys.argv[1], secrets="plaintext"),
)


@token_required(scopes="esi-wallet.read_character_wallet.v1", app=app)
def show(token: object) -> None:
    print(f"chose {token.character_id}")  # type: ignore[attr-defined]


show()
