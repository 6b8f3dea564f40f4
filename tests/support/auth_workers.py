"""Run in other processes by the concurrency test: authenticated calls through a shared store."""

from __future__ import annotations

import time


def call_wallet(
    base_url: str,
    db_url: str,
    client_id: str,
    character_id: int,
    start_at: float,
    calls: int,
    tmpdir: str | None = None,
) -> int:
    if tmpdir is not None:  # as on another host: nothing shared but the database
        import os
        import tempfile

        os.environ["TMPDIR"] = tmpdir
        tempfile.tempdir = None
    from esi_auth.auth import ESIAuth
    from esi_auth.config import SSOConfig
    from esi_auth.refresh import TokenRefresher
    from esi_auth.sso import SSOClient
    from esi_auth.store.sql import SQLTokenStore
    from esi_client import ESIClient
    from esi_client.api.wallet import get_characters_character_id_wallet

    sso = SSOClient(SSOConfig(client_id=client_id, login_url=base_url))
    auth = ESIAuth(TokenRefresher(SQLTokenStore(db_url, secrets="plaintext"), sso))
    client = ESIClient(app_name="worker", contact="w", base_url=base_url, auth=auth, cache=False)
    time.sleep(max(start_at - time.time(), 0))
    done = 0
    for _ in range(calls):
        get_characters_character_id_wallet.sync(character_id, client=client)
        done += 1
    return done


def refresh_slowly(base_url: str, db_url: str, client_id: str, token_id: int) -> None:
    """Refresh one token in this process (killed by the test while it validates the answer)."""
    from esi_auth.config import SSOConfig
    from esi_auth.refresh import TokenRefresher
    from esi_auth.sso import SSOClient
    from esi_auth.store.sql import SQLTokenStore

    store = SQLTokenStore(db_url, secrets="plaintext")
    refresher = TokenRefresher(store, SSOClient(SSOConfig(client_id=client_id, login_url=base_url)))
    token = store.get(token_id)
    assert token is not None
    refresher.refresh(token, force=True)
