"""A store that goes away is one WARNING when it goes and one when it is back, with a counter
in between: not a line per cache key per step."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Generator
from pathlib import Path

import pytest

from esi_client import RedisLimits
from esi_client.api.status import get_status
from esi_client.api.universe import get_universe_types_type_id
from esi_client.cache_stores import RedisCache, ResponseCache
from testbed.servers import free_port, redis_server
from tests.support.fixtures import ClientFactory, FakeESIServer, ManualClock, cache_of


def _cache_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and "cache store" in r.getMessage()
    ]


def test_a_redis_outage_is_told_once_and_its_end_once(
    make_client: ClientFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    first: Generator[str, None, None] = redis_server(tmp_path / "up", port)  # type: ignore[assignment]
    (tmp_path / "up").mkdir()
    url = next(first)
    # tried on every operation (no pause after a failure): each one is counted
    client = make_client(cache=ResponseCache(store=RedisCache(url), store_retry_seconds=0.0))
    assert get_universe_types_type_id.sync(34, client=client).type_id == 34
    first.close()  # Redis goes away
    caplog.set_level(logging.DEBUG, logger="esi_client")
    for type_id in range(35, 55):
        assert get_universe_types_type_id.sync(type_id, client=client).type_id == type_id
    down = _cache_warnings(caplog)
    assert len(down) == 1, down
    assert "calls go on without it" in down[0]
    failures = cache_of(client).store_errors
    assert failures >= 20  # every failed load and save counted
    (tmp_path / "again").mkdir()
    second: Generator[str, None, None] = redis_server(tmp_path / "again", port)  # type: ignore[assignment]
    next(second)
    try:
        caplog.clear()
        assert get_universe_types_type_id.sync(60, client=client).type_id == 60
        back = _cache_warnings(caplog)
        assert len(back) == 1 and "answers again" in back[0], back
        assert cache_of(client).store_errors == failures
    finally:
        second.close()


def _limit_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.getMessage().startswith("shared limits:")
    ]


@pytest.mark.parametrize("retry_seconds", [0.0, 600.0], ids=["tried-each-call", "left-alone"])
def test_a_redis_outage_of_the_shared_limits_is_told_once_and_its_end_once(
    make_client: ClientFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture, retry_seconds: float
) -> None:
    """Down: one WARNING, then this process's own limits (counted) until Redis is tried again,
    `retry_seconds` after the failure; back: one WARNING, and the limits are Redis's again."""
    port = free_port()
    first: Generator[str, None, None] = redis_server(tmp_path / "up", port)  # type: ignore[assignment]
    (tmp_path / "up").mkdir()
    limits = RedisLimits(next(first), app=f"outage-{uuid.uuid4().hex[:8]}", retry_seconds=retry_seconds)
    client = make_client(cache=False, limits=limits)
    assert get_status.sync(client=client).players > 0
    assert client.stats.shared_limit_fallbacks == 0
    first.close()  # Redis goes away
    caplog.set_level(logging.WARNING, logger="esi_client")
    for _ in range(5):
        assert get_status.sync(client=client).players > 0
    down = _limit_warnings(caplog)
    assert len(down) == 1 and "Redis did not answer" in down[0], down
    fallbacks = client.stats.shared_limit_fallbacks
    assert fallbacks >= 5
    (tmp_path / "again").mkdir()
    second: Generator[str, None, None] = redis_server(tmp_path / "again", port)  # type: ignore[assignment]
    next(second)
    try:
        caplog.clear()
        for _ in range(3):
            assert get_status.sync(client=client).players > 0
        told = _limit_warnings(caplog)
        if retry_seconds:  # not tried again yet: still its own limits, and nothing to tell
            assert told == [] and client.stats.shared_limit_fallbacks >= fallbacks + 3, told
        else:
            assert len(told) == 1 and "answers again" in told[0], told
            assert client.stats.shared_limit_fallbacks == fallbacks
    finally:
        second.close()


def test_a_broken_token_store_is_named_with_the_drivers_reason(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path
) -> None:
    """A store that answers with an error (here a file that is no longer a database): the refresh
    that needed it names the store, the driver's reason (its first line) and the token."""
    from esi_auth.errors import StoreUnavailableError
    from tests.support.auth_support import make_setup

    setup = make_setup(fake_esi, esi_clock, tmp_path)
    token = setup.log_in()
    for suffix in ("", "-wal", "-shm"):
        part = tmp_path / f"tokens.sqlite{suffix}"
        if part.exists():
            part.write_bytes(b"not a database\n" * 400)
    esi_clock.advance(1300)
    with pytest.raises(StoreUnavailableError) as caught:
        setup.refresher.refresh(token)
    assert str(caught.value) == (
        f"the token store {setup.store.describe()} cannot be reached (file is not a database); "
        f"the token of {token.character_name} ({token.character_id}) was not refreshed"
    )


def test_a_database_failure_is_told_in_its_first_line_within_200_characters() -> None:
    from sqlalchemy.exc import DBAPIError, OperationalError

    from esi_auth.store.sql import failure_reason

    driver_said = Exception("connection refused " + "x" * 300 + "\nDETAIL: the second line is left out")
    assert (
        failure_reason(OperationalError("SELECT 1", {}, driver_said))
        == ("connection refused " + "x" * 300)[:200]
    )
    assert failure_reason(OperationalError("SELECT 1", {}, Exception("  server closed  "))) == "server closed"
    assert failure_reason(DBAPIError("SELECT 1", {}, ConnectionResetError())) == "ConnectionResetError"
