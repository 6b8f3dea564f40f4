"""A refresh answer received is never dropped. PostgreSQL goes down after EVE SSO has rotated the
refresh token and before the answer is stored: the answer is kept in memory and in an encrypted
spill file, the error names the outage (never a raw driver error), and the answer is written when
the store is back. Under strict reuse detection, losing it would cost the grant."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from esi_auth.errors import StoreUnavailableError
from esi_auth.refresh import TokenRefresher
from esi_auth.sso import SSOClient
from esi_auth.token import Token
from esi_client.api.wallet import get_characters_character_id_wallet
from testbed.servers import PostgresCluster
from tests.support.auth_support import AuthSetup, make_setup
from tests.support.fixtures import ClientFactory, FakeESIServer

KEY = Fernet.generate_key()


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL of this test's own: stopping it stops no other test."""
    cluster = PostgresCluster()
    try:
        cluster.start()
        cluster.create_database()
        yield cluster
    finally:
        cluster.remove()


def _down_mid_refresh(setup: AuthSetup, cluster: PostgresCluster, token: Token) -> BaseException:
    """Refresh in a thread; once SSO has rotated the token (its answer held back a moment), the
    database is killed. Returns what the refresh raised."""
    setup.fake.sso.refresh_answer_delay_s = 1.0
    raised: list[BaseException] = []

    def refresh() -> None:
        try:
            setup.refresher.refresh(token, force=True)
        except BaseException as exc:
            raised.append(exc)

    worker = threading.Thread(target=refresh)
    worker.start()
    deadline = time.monotonic() + 30
    while sum(setup.fake.sso.refreshes.values()) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sum(setup.fake.sso.refreshes.values()) == 1, "SSO never saw the refresh"
    cluster.stop()
    worker.join(60)
    setup.fake.sso.refresh_answer_delay_s = 0.0
    assert len(raised) == 1, "the refresh did not fail with the store down"
    return raised[0]


def _setup(fake: FakeESIServer, tmp_path: Path, cluster: PostgresCluster) -> AuthSetup:
    fake.sso.refresh_rotation = "strict"  # a lost answer would cost the grant
    return make_setup(fake, fake.sso.clock, tmp_path, url=cluster.url, secret_key=KEY)


def test_an_answer_the_store_cannot_take_is_kept_and_written_when_it_is_back(
    fake_esi: FakeESIServer, tmp_path: Path, cluster: PostgresCluster
) -> None:
    setup = _setup(fake_esi, tmp_path, cluster)
    token = setup.log_in()
    raised = _down_mid_refresh(setup, cluster, token)
    assert isinstance(raised, StoreUnavailableError), repr(raised)
    message = str(raised)
    assert "could not be written" in message and str(setup.refresher.spill.path) in message
    assert "127.0.0.1" in message and "pg_advisory" not in message
    spilled = setup.refresher.spill.path.read_text()
    assert str(token.refresh_token) not in spilled and "eyJ" not in spilled  # no token in clear: sealed
    assert setup.refresher.spill.path.stat().st_mode & 0o077 == 0

    cluster.start()
    kept = setup.store.get(token.id or 0)
    assert kept is not None and kept.refresh_token == token.refresh_token  # the store missed it
    fresh = setup.refresher.ensure_fresh(kept)  # writes the kept answer, asks SSO nothing
    assert fresh.expires_at > time.time() and sum(setup.fake.sso.refreshes.values()) == 1
    stored = setup.store.get(token.id or 0)
    assert stored is not None and stored.refresh_token not in (None, token.refresh_token)
    assert not setup.refresher.spill.path.exists() and len(setup.refresher.spill) == 0
    again = setup.refresher.refresh(stored, force=True)  # the kept token is the one SSO honours
    assert again.expires_at > time.time() and setup.fake.sso.revoked == 0


def test_another_process_finds_the_kept_answer_in_the_spill_file(
    fake_esi: FakeESIServer, tmp_path: Path, cluster: PostgresCluster
) -> None:
    setup = _setup(fake_esi, tmp_path, cluster)
    token = setup.log_in()
    _down_mid_refresh(setup, cluster, token)
    cluster.start()
    # A new process: nothing in memory, the same store and spill directory.
    restarted = TokenRefresher(setup.store, SSOClient(setup.sso.config), spill_dir=tmp_path / "spill")
    kept = setup.store.get(token.id or 0)
    assert kept is not None
    fresh = restarted.refresh(kept, force=True)
    assert fresh.expires_at > time.time() and setup.fake.sso.revoked == 0
    assert sum(setup.fake.sso.refreshes.values()) == 2  # the spilled token was the one sent


def test_while_the_store_is_down_the_kept_answer_serves_and_others_get_a_named_error(
    fake_esi: FakeESIServer, tmp_path: Path, cluster: PostgresCluster, make_client: ClientFactory
) -> None:
    setup = _setup(fake_esi, tmp_path, cluster)
    token, other = setup.log_in(), setup.log_in()
    before = token.refresh_token
    _down_mid_refresh(setup, cluster, token)
    served = setup.refresher.refresh(token)  # the store is still down
    assert served.expires_at > time.time() and served.refresh_token not in (None, before)
    assert served.refresh_token != served.access_token  # the kept answer's own refresh token
    with pytest.raises(StoreUnavailableError) as caught:
        setup.refresher.refresh(other, force=True)
    assert "cannot be reached" in str(caught.value) and str(other.character_id) in str(caught.value)
    assert str(other.refresh_token) not in str(caught.value)
    assert sum(setup.fake.sso.refreshes.values()) == 1  # nothing sent to SSO without a store
    client = make_client(auth=setup.auth)
    with pytest.raises(StoreUnavailableError) as named:
        get_characters_character_id_wallet.sync(other.character_id, client=client)
    assert "GetCharactersCharacterIdWallet" in str(named.value) and "cannot be reached" in str(named.value)
