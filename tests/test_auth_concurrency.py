"""32 threads and 4 processes, one character, an access token that has just expired, an SSO that
rotates refresh tokens and revokes a grant whose old refresh token is replayed: exactly one
refresh, the token survives, every call succeeds."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from esi_client.clock import SystemClock
from esi_fake import FakeESIServer, FakeState
from tests.support.auth_support import keeps_the_newest, make_setup
from tests.support.auth_workers import call_wallet

THREADS, PROCESSES, CALLS = 32, 4, 3


@pytest.mark.slow
def test_one_refresh_per_expiry_across_threads_and_processes(
    spec_document: dict[str, Any], tmp_path: Path, store_url: str, refresh_rotation: str
) -> None:
    with FakeESIServer(spec_document, state=FakeState(clock=SystemClock())) as fake:
        fake.sso.refresh_rotation = refresh_rotation
        from esi_client.api.wallet import get_characters_character_id_wallet

        group = get_characters_character_id_wallet.OPERATION.rate_limit
        assert group is not None
        # 36 clients x 3 calls would spend this character's real budget (and rightly be held back).
        fake.state.rate_limits.overrides[group.group] = 100_000
        setup = make_setup(fake, SystemClock(), tmp_path, url=store_url)
        token = setup.log_in()
        token.expires_at = time.time() - 5  # it has just expired
        setup.store.save(token)
        db_url, client_id = setup.store.url, setup.sso.config.client_id
        start_at = time.time() + 4.0  # the processes need a moment to import

        def in_thread(_: int) -> int:
            return call_wallet(fake.url, db_url, client_id, token.character_id, start_at, CALLS)

        spawn = multiprocessing.get_context("spawn")
        with (
            ProcessPoolExecutor(PROCESSES, mp_context=spawn) as processes,
            ThreadPoolExecutor(THREADS) as threads,
        ):
            remote = [
                processes.submit(
                    call_wallet, fake.url, db_url, client_id, token.character_id, start_at, CALLS
                )
                for _ in range(PROCESSES)
            ]
            local = list(threads.map(in_thread, range(THREADS)))
            results = local + [future.result(timeout=120) for future in remote]

        assert results == [CALLS] * (THREADS + PROCESSES)
        assert sum(fake.sso.refreshes.values()) == 1
        survivor = setup.store.get(token.id or 0)
        assert survivor is not None and survivor.expires_at > time.time()
        assert keeps_the_newest(refresh_rotation, token.refresh_token, survivor.refresh_token)
        # No process ever sent a rotated-away refresh token (SSO would take it as a lost answer
        # or, once the successor is used, as a replay, and revoke the grant).
        assert fake.sso.replays == 0 and fake.sso.revoked == 0
