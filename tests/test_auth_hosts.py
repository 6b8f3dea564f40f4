"""Refresh across hosts and crashes: processes that share nothing but the database (their own
temp dirs, as on separate hosts or under systemd PrivateTmp), on SQLite and on PostgreSQL; a
process killed between SSO's answer and the end of the refresh; a JWKS that is down or has a new
key. The rotated refresh token is never lost, no grant is ever revoked."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from esi_auth.errors import InvalidGrantError, TokenValidationError
from esi_auth.jwt import REFETCH_AFTER_SECONDS
from esi_auth.refresh import TokenRefresher
from esi_auth.sso import SSOClient
from esi_client.clock import ManualClock, SystemClock
from esi_fake import FakeESIServer, FakeState
from tests.support.auth_support import keeps_the_newest, make_setup
from tests.support.auth_workers import call_wallet, refresh_slowly

PROCESSES, CALLS = 4, 3


@pytest.fixture
def fake(spec_document: dict[str, Any]) -> Iterator[FakeESIServer]:
    with FakeESIServer(spec_document, state=FakeState(clock=SystemClock())) as server:
        from esi_client.api.wallet import get_characters_character_id_wallet

        group = get_characters_character_id_wallet.OPERATION.rate_limit
        assert group is not None
        server.state.rate_limits.overrides[group.group] = 100_000
        yield server


@pytest.mark.slow
def test_processes_sharing_only_the_database_refresh_once(
    fake: FakeESIServer, store_url: str, tmp_path: Path, refresh_rotation: str
) -> None:
    fake.sso.refresh_rotation = refresh_rotation
    setup = make_setup(fake, SystemClock(), tmp_path, url=store_url)
    token = setup.log_in()
    token.expires_at = time.time() - 5
    setup.store.save(token)
    start_at = time.time() + 4.0
    homes = [tmp_path / f"host-{n}" for n in range(PROCESSES)]
    for home in homes:
        home.mkdir()
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(PROCESSES, mp_context=spawn) as processes:
        futures = [
            processes.submit(
                call_wallet,
                fake.url,
                store_url,
                setup.sso.config.client_id,
                token.character_id,
                start_at,
                CALLS,
                str(home),
            )
            for home in homes
        ]
        results = [future.result(timeout=120) for future in futures]
    assert results == [CALLS] * PROCESSES
    assert sum(fake.sso.refreshes.values()) == 1
    survivor = setup.store.get(token.id or 0)
    assert survivor is not None and survivor.expires_at > time.time()
    assert keeps_the_newest(refresh_rotation, token.refresh_token, survivor.refresh_token)
    assert fake.sso.revoked == 0 and fake.sso.replays == 0


def test_an_unreachable_jwks_keeps_the_rotated_refresh_token(fake: FakeESIServer, tmp_path: Path) -> None:
    setup = make_setup(fake, SystemClock(), tmp_path)
    token = setup.log_in()
    fake.sso.jwks_fail = True
    fresh_process = TokenRefresher(setup.store, SSOClient(setup.sso.config))  # no keys cached yet
    with pytest.raises(TokenValidationError):
        fresh_process.refresh(token, force=True)
    kept = setup.store.get(token.id or 0)
    assert kept is not None and kept.refresh_token != token.refresh_token
    fake.sso.jwks_fail = False
    again = TokenRefresher(setup.store, SSOClient(setup.sso.config)).ensure_fresh(kept)
    assert again.expires_at > time.time() and fake.sso.revoked == 0


def test_a_key_rotation_within_the_refetch_interval_loses_nothing(
    fake: FakeESIServer, tmp_path: Path
) -> None:
    """CCP rotates its key just after this process fetched the JWKS: the refreshed token's kid
    is unknown and the JWKS is not fetched again within 10 s (a flood of made-up kids must not
    make the client hammer SSO). The refresh fails, the rotated refresh token is kept; after the
    interval the same process fetches the new key and uses the saved answer without asking SSO."""
    setup = make_setup(fake, SystemClock(), tmp_path)
    token = setup.log_in()
    clock = ManualClock()
    process = TokenRefresher(setup.store, SSOClient(setup.sso.config, clock=clock))
    token = process.refresh(token, force=True)  # this process's JWKS is fetched now
    fake.sso.rotate_keys()
    with pytest.raises(TokenValidationError, match="unknown key id"):
        process.refresh(token, force=True)
    kept = setup.store.get(token.id or 0)
    assert kept is not None and kept.refresh_token != token.refresh_token
    asked = sum(fake.sso.refreshes.values())
    clock.advance(REFETCH_AFTER_SECONDS)
    later = process.ensure_fresh(kept)
    assert later.expires_at > time.time() and later.access_token == kept.access_token
    assert sum(fake.sso.refreshes.values()) == asked and fake.sso.revoked == 0


def _kill_a_refresh_midway(fake: FakeESIServer, setup: Any, token_id: int, *, in_validation: bool) -> None:
    """A child process refreshes the token and is SIGKILLed once SSO has rotated it: while the
    answer is on the wire, or (`in_validation`) once its JWKS request has arrived (the child is
    validating SSO's answer). Both moments are read off the fake SSO's own counters."""
    spawn = multiprocessing.get_context("spawn")
    jwks_before = fake.sso.jwks_requests
    child = spawn.Process(
        target=refresh_slowly, args=(fake.url, setup.store.url, setup.sso.config.client_id, token_id)
    )
    child.start()
    _wait_until(lambda: sum(fake.sso.refreshes.values()) > 0, "the child never refreshed")
    if in_validation:
        _wait_until(lambda: fake.sso.jwks_requests > jwks_before, "the child never fetched the JWKS")
    assert sum(fake.sso.refreshes.values()) == 1
    assert child.pid is not None and child.is_alive()
    os.kill(child.pid, signal.SIGKILL)
    child.join()


def _wait_until(happened: Callable[[], bool], failure: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not happened():
        assert time.monotonic() < deadline, failure
        time.sleep(0.01)


@pytest.mark.slow
def test_kill_9_between_the_sso_answer_and_the_end_of_the_refresh(
    fake: FakeESIServer, tmp_path: Path, refresh_rotation: str
) -> None:
    fake.sso.refresh_rotation = refresh_rotation
    setup = make_setup(fake, SystemClock(), tmp_path)
    token = setup.log_in()
    fake.sso.jwks_delay_s = 60.0  # the refreshing process hangs while it validates the answer
    _kill_a_refresh_midway(fake, setup, token.id or 0, in_validation=True)  # the JWKS hangs
    fake.sso.jwks_delay_s = 0.0
    kept = setup.store.get(token.id or 0)
    assert kept is not None and keeps_the_newest(refresh_rotation, token.refresh_token, kept.refresh_token)
    # The next process validates the saved answer instead of asking SSO again.
    after = TokenRefresher(setup.store, SSOClient(setup.sso.config)).ensure_fresh(kept)
    assert after.expires_at > time.time() and after.access_token == kept.access_token
    assert sum(fake.sso.refreshes.values()) == 1 and fake.sso.revoked == 0
    stored = setup.store.get(token.id or 0)
    assert stored is not None and stored.expires_at == after.expires_at


@pytest.mark.slow
def test_kill_9_after_sso_rotated_and_before_the_answer_arrived(
    fake: FakeESIServer, tmp_path: Path, refresh_rotation: str
) -> None:
    fake.sso.refresh_rotation = refresh_rotation
    setup = make_setup(fake, SystemClock(), tmp_path)
    token = setup.log_in()
    fake.sso.refresh_answer_delay_s = 60.0  # SSO rotates, then its answer is on the wire a while
    _kill_a_refresh_midway(fake, setup, token.id or 0, in_validation=False)  # it dies with it
    fake.sso.refresh_answer_delay_s = 0.0
    kept = setup.store.get(token.id or 0)
    assert kept is not None and kept.refresh_token == token.refresh_token  # nothing was written
    next_process = TokenRefresher(setup.store, SSOClient(setup.sso.config))
    if refresh_rotation == "strict":
        # The cost of strict reuse detection: the answer died with the process, so the token
        # the store holds is a rotated-away one; SSO revokes the grant and the character must
        # log in again. The token is removed and the error says so.
        with pytest.raises(InvalidGrantError, match="Log in again"):
            next_process.refresh(kept, force=True)
        assert setup.store.get(token.id or 0) is None and fake.sso.revoked == 1
        return
    after = next_process.refresh(kept, force=True)
    assert after.expires_at > time.time()
    assert keeps_the_newest(refresh_rotation, token.refresh_token, after.refresh_token)
    assert fake.sso.revoked == 0 and fake.sso.replays == (1 if refresh_rotation == "take-back" else 0)
