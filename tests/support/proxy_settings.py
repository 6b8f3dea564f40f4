"""A character's token stored where `esi proxy` finds it, and the settings that point it there."""

from __future__ import annotations

from pathlib import Path

import httpx2

from esi_auth import SQLTokenStore, SSOConfig, Token
from esi_auth.sso import SSOClient, TokenAnswer
from tests.support.fixtures import FakeESIServer

WALLET = "esi-wallet.read_character_wallet.v1"


def stored_token(fake_esi: FakeESIServer, folder: Path, client_id: str) -> tuple[Token, dict[str, str]]:
    """A wallet token minted by the fake for `client_id`, saved in an SQLite store in `folder`;
    with the `ESI_*` settings of a proxy using that app and that store."""
    answer = httpx2.post(
        f"{fake_esi.url}/_fake/token", json={"client_id": client_id, "scopes": [WALLET]}
    ).json()
    sso = SSOClient(SSOConfig(client_id=client_id, login_url=fake_esi.url))
    token = sso.validate(TokenAnswer(answer["access_token"], answer["refresh_token"])).to_token()
    store_url = f"sqlite:///{folder / 'tokens.sqlite'}"
    SQLTokenStore(store_url, secrets="plaintext").save(token)
    settings = {
        "ESI_BASE_URL": fake_esi.url,
        "ESI_LOGIN_URL": fake_esi.url,
        "ESI_CLIENT_ID": client_id,
        "ESI_STORE": store_url,
        "ESI_SECRETS": "plaintext",
    }
    return token, settings
