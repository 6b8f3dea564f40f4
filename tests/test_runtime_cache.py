"""Caching: fresh hits make no request, stale entries revalidate (304 reuses the parsed result),
a persistent store survives a new client."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import orjson
import pytest

from esi_client.api.meta import get_meta_status
from esi_client.api.status import get_status
from esi_client.api.wars import get_wars_war_id
from esi_client.cache_stores import SQLiteCache
from esi_client.runtime.cache.memory import StoredResponse
from tests.support.fixtures import ClientFactory, FakeESIServer, ManualClock, cache_of
from tests.support.loop_probe import loop_ticks


def test_fresh_hit_makes_no_request(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    client = make_client()
    first = get_status.sync_detailed(client=client)
    second = get_status.sync_detailed(client=client)
    assert fake_esi.state.stats.count("GetStatus") == 1
    assert not first.from_cache and second.from_cache
    assert second.parsed == first.parsed and second.parsed is not first.parsed  # a copy of its own
    assert client.stats.cache_hits == 1 and client.stats.requests == 1


async def test_fresh_hit_async(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    client = make_client()
    first = await get_status.asyncio(client=client)
    assert await get_status.asyncio(client=client) == first
    assert fake_esi.state.stats.count("GetStatus") == 1
    await client.aclose()


def test_stale_entry_revalidates_with_304(
    fake_esi: FakeESIServer,
    make_client: ClientFactory,
    esi_clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client()
    first = get_status.sync_detailed(client=client)
    esi_clock.advance(31)  # GetStatus is cached for 30 s
    with caplog.at_level(logging.DEBUG, logger="esi_client"):
        second = get_status.sync_detailed(client=client)
    assert [
        r.getMessage().split(" cache=")[1].split()[0] for r in caplog.records if " cache=" in r.getMessage()
    ] == ["revalidate"]
    assert fake_esi.state.stats.count("GetStatus") == 2
    assert fake_esi.state.stats.not_modified == 1
    assert second.from_cache and second.parsed == first.parsed
    assert client.stats.not_modified == 1
    third = get_status.sync_detailed(client=client)  # fresh again after the 304
    assert third.from_cache and fake_esi.state.stats.count("GetStatus") == 2


def test_changed_data_replaces_the_entry(
    fake_esi: FakeESIServer, make_client: ClientFactory, esi_clock: ManualClock
) -> None:
    client = make_client()
    first = get_status.sync(client=client)
    esi_clock.advance(31)
    fake_esi.state.generation += 1  # the data behind the route changed
    second = get_status.sync_detailed(client=client)
    assert not second.from_cache and second.parsed != first
    assert fake_esi.state.stats.not_modified == 0


def test_persistent_cache_survives_a_new_client(
    fake_esi: FakeESIServer, make_client: ClientFactory, tmp_path: Path
) -> None:
    path = tmp_path / "cache.sqlite"
    first = get_wars_war_id.sync(587, client=make_client(cache=SQLiteCache(path)))
    again = make_client(cache=SQLiteCache(path))
    response = get_wars_war_id.sync_detailed(587, client=again)
    assert response.from_cache and response.parsed == first
    assert fake_esi.state.stats.count("GetWarsWarId") == 1
    assert (path.stat().st_mode & 0o777) == 0o600


def test_persistent_entry_revalidates_after_restart(
    fake_esi: FakeESIServer, make_client: ClientFactory, esi_clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "cache.sqlite"
    get_status.sync(client=make_client(cache=SQLiteCache(path)))
    esi_clock.advance(31)
    response = get_status.sync_detailed(client=make_client(cache=SQLiteCache(path)))
    assert response.from_cache and fake_esi.state.stats.not_modified == 1


def test_memory_cache_is_bounded(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    from esi_client.cache_stores import ResponseCache

    client = make_client(cache=ResponseCache(max_entries=3))
    for war_id in (1, 2, 3, 4):
        get_wars_war_id.sync(war_id, client=client)
    assert len(cache_of(client)) == 3
    get_wars_war_id.sync(4, client=client)  # still there
    get_wars_war_id.sync(1, client=client)  # evicted: asked again
    assert fake_esi.state.stats.count("GetWarsWarId") == 5


def test_uncacheable_route_keeps_the_etag(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    client = make_client()  # GetMetaStatus has no cache age (nor a time of day): every call asks, by ETag
    first = get_meta_status.sync(client=client)
    second = get_meta_status.sync_detailed(client=client)
    assert second.parsed == first and fake_esi.state.stats.not_modified == 1
    assert fake_esi.state.stats.count("GetMetaStatus") == 2


def test_cache_can_be_turned_off(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    client = make_client(cache=False)
    get_status.sync(client=client)
    get_status.sync(client=client)
    assert fake_esi.state.stats.count("GetStatus") == 2


def test_debug_log_and_counters(
    fake_esi: FakeESIServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client()
    with caplog.at_level(logging.DEBUG, logger="esi_client"):
        get_status.sync(client=client)
        get_status.sync(client=client)
    messages = [record.getMessage() for record in caplog.records if record.name == "esi_client"]
    assert any(m.startswith("GetStatus 200 cache=miss") for m in messages)
    assert any(m.startswith("GetStatus cache=hit") for m in messages)
    assert client.stats.snapshot()["requests"] == 1


def test_redis_cache_is_shared_between_clients(
    fake_esi: FakeESIServer, make_client: ClientFactory, redis_url: str
) -> None:
    from esi_client.cache_stores import RedisCache

    prefix = f"test-{id(fake_esi)}-{fake_esi.state.stats.requests}:"
    first = get_wars_war_id.sync(99, client=make_client(cache=RedisCache(redis_url, prefix=prefix)))
    other_process_client = make_client(cache=RedisCache(redis_url, prefix=prefix))
    response = get_wars_war_id.sync_detailed(99, client=other_process_client)
    assert response.from_cache and response.parsed == first
    assert fake_esi.state.stats.count("GetWarsWarId") == 1


def test_redis_cache_keeps_big_bodies_as_sent(
    fake_esi: FakeESIServer, make_client: ClientFactory, redis_url: str
) -> None:
    import redis

    from esi_client.api.market import get_markets_region_id_orders
    from esi_client.cache_stores import RedisCache

    prefix = f"test-big-{fake_esi.state.stats.requests}:"
    first = get_markets_region_id_orders.sync_detailed(
        10000002, client=make_client(cache=RedisCache(redis_url, prefix=prefix)), page=1
    )
    [key] = redis.Redis.from_url(redis_url).keys(f"{prefix}*")
    stored = redis.Redis.from_url(redis_url).get(key)
    assert stored is not None and len(stored) > 32 * 1024
    other_process_client = make_client(cache=RedisCache(redis_url, prefix=prefix))
    again = get_markets_region_id_orders.sync_detailed(10000002, client=other_process_client, page=1)
    assert again.from_cache and again.parsed == first.parsed
    assert other_process_client.stats.fast_decodes == 1  # rebuilt from the stored bytes
    body = orjson.dumps([order.to_dict() for order in first.parsed or []])
    assert len(stored) < len(body) * 1.2  # the body is kept as bytes, not re-encoded


class SlowStore(SQLiteCache):
    """A store behind a slow network: each read and write takes 0.3 s, in the calling thread."""

    def load(self, key: str) -> StoredResponse | None:
        time.sleep(0.3)
        return super().load(key)

    def save(self, key: str, response: StoredResponse) -> None:
        time.sleep(0.3)
        super().save(key, response)


async def test_async_calls_use_a_slow_store_off_the_event_loop(
    fake_esi: FakeESIServer, make_client: ClientFactory, esi_clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "slow.sqlite"
    client = make_client(cache=SlowStore(path))
    try:
        async with loop_ticks() as ticks:
            first = await get_status.asyncio_detailed(client=client)  # store read (a miss) + write
            esi_clock.advance(31)
            again = await get_status.asyncio_detailed(client=client)  # revalidated: 304, store updated
    finally:
        await client.aclose()
    assert not first.from_cache and again.from_cache and again.parsed == first.parsed
    assert ticks.count >= 30, ticks.count  # 1.2 s of store I/O: ~120 ticks when free, ~1 when blocked
    reopened = make_client(cache=SQLiteCache(path))
    assert get_status.sync_detailed(client=reopened).from_cache
    assert reopened.stats.requests == 0


class BrokenStore(SQLiteCache):
    """A store whose backend is down: every read and write raises."""

    def load(self, key: str) -> StoredResponse | None:
        raise ConnectionError("store unreachable")

    def save(self, key: str, response: StoredResponse) -> None:
        raise ConnectionError("store unreachable")


async def test_a_failing_store_never_fails_a_call(
    fake_esi: FakeESIServer,
    make_client: ClientFactory,
    esi_clock: ManualClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(cache=BrokenStore(tmp_path / "broken.sqlite"))
    with caplog.at_level(logging.WARNING, logger="esi_client"):
        first = get_status.sync_detailed(client=client)  # load fails (a miss), save fails
        assert get_status.sync_detailed(client=client).parsed == first.parsed  # memory still works
        esi_clock.advance(31)
        # stale: the store is read (another process may have a fresher answer) and fails; the
        # 304's refreshed entry is saved, and that fails too
        revalidated = await get_status.asyncio_detailed(client=client)
    await client.aclose()
    assert first.parsed is not None and revalidated.parsed == first.parsed
    # the first failure leaves the store alone for a while: the other three are not even tried
    assert cache_of(client).store_errors == 1 and cache_of(client).guard.skipped == 3
    failures = [record.getMessage() for record in caplog.records if "cache store" in record.getMessage()]
    # one WARNING for the outage, however many operations it spans
    assert len(failures) == 1 and "ConnectionError: store unreachable" in failures[0]
