"""Stores that stall, die or hold garbage: a call still ends by its deadline with ESI's answer,
the store is left alone until it answers again, and nothing wrong in it fails later calls.

The stalls are real: a real redis-server told `CLIENT PAUSE` answers nothing until the pause ends.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from esi_client import ESIClient
from esi_client.api.status import get_status
from esi_client.api.universe import get_universe_types_type_id
from esi_client.cache_stores import RedisCache, ResponseCache, SQLiteCache, StoredResponse, UnusableEntry
from esi_client.shared_limits import RedisLimits
from testbed.servers import redis_server
from tests.support.fixtures import ClientFactory, FakeESIServer, ManualClock, cache_of


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[str]:
    """A redis-server of this test's own: pausing it stalls no other test."""
    (tmp_path / "redis").mkdir()
    yield from redis_server(tmp_path / "redis")


def _redis(url: str) -> Any:
    return redis.Redis.from_url(url)


def _pause(url: str, seconds: float) -> None:
    _redis(url).execute_command("CLIENT", "PAUSE", int(seconds * 1000), "ALL")


async def _all_store_threads_busy(client: ESIClient, threads: int) -> None:
    """Waits until `threads` of the client's store calls are inside the store (its worker-thread
    limiter on this event loop is used up), read off the client itself."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        pool = client._pools.by_loop.get(loop)
        if pool is not None and pool.store_threads().borrowed_tokens >= threads:
            return
        assert loop.time() < deadline, "the stalled calls never reached the store"
        await asyncio.sleep(0.01)


def _down(cache: ResponseCache) -> bool:
    return cache.guard.down


# Redis is paused far longer than any bound below: a call that waited for it would take the
# whole pause. The bounds are the store timeouts the calls may spend (0.5 s each), with room for
# a busy machine; they are not speed measurements (those are the benchmarks').
STALL_SECONDS = 30


def test_a_stalled_redis_cache_costs_one_short_wait_then_none(
    make_client: ClientFactory, own_redis: str
) -> None:
    client = make_client(cache=RedisCache(own_redis), deadline=3.0)
    assert get_universe_types_type_id.sync(34, client=client).type_id == 34  # Redis works
    _pause(own_redis, STALL_SECONDS)
    started = time.monotonic()
    for type_id in range(35, 45):
        assert get_universe_types_type_id.sync(type_id, client=client).type_id == type_id
    # one store operation waits out its timeout; the store is then left alone
    assert cache_of(client).store_errors == 1 and cache_of(client).guard.skipped >= 10 * 3
    assert time.monotonic() - started < 10, "a call waited for the stalled store"


def test_a_stalled_store_costs_each_operation_one_timeout_never_the_stall(
    make_client: ClientFactory, own_redis: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = ResponseCache(store=RedisCache(own_redis), store_retry_seconds=0.0)  # never left alone
    client = make_client(cache=cache, deadline=2.0)
    _pause(own_redis, STALL_SECONDS)
    caplog.set_level(logging.DEBUG, "esi_client")
    started = time.monotonic()
    assert get_universe_types_type_id.sync(34, client=client).type_id == 34
    took = time.monotonic() - started
    # what failed is named, and which entry: the read first (warned), then the claim
    failed = [record.getMessage() for record in caplog.records if "cache store" in record.getMessage()]
    assert re.match(r"cache store failed \(load of \S*/universe/types/34\S*: TimeoutError", failed[0]), failed
    assert any(re.match(r"cache store claim of \S*/universe/types/34\S* failed: ", line) for line in failed)
    assert cache_of(client).store_errors == len(failed) and took < len(failed) * 0.5 + 5, took


def test_a_restarted_redis_is_used_again_by_itself(
    make_client: ClientFactory, own_redis: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = ResponseCache(store=RedisCache(own_redis), store_retry_seconds=0.5)
    client = make_client(cache=cache)
    _pause(own_redis, 1.0)
    with caplog.at_level(logging.WARNING, logger="esi_client"):
        assert get_universe_types_type_id.sync(34, client=client).type_id == 34
        assert _down(cache)
        deadline = time.monotonic() + 10
        type_id = 35
        while _down(cache) and time.monotonic() < deadline:  # the pause ends by itself
            assert get_universe_types_type_id.sync(type_id, client=client).type_id == type_id
            type_id += 1
    assert not _down(cache)
    told = [r.getMessage() for r in caplog.records if "cache store" in r.getMessage()]
    assert len(told) == 2 and "answers again" in told[1], told
    # The operation that found it answering may have been the last of its call (the claim's
    # release, after the save was skipped): the next call writes its answer.
    assert get_universe_types_type_id.sync(type_id, client=client).type_id == type_id
    stored = _redis(own_redis).keys("esikit:cache:*")
    assert stored, "the store is written again once it answers"


async def test_calls_stuck_on_a_dead_store_leave_other_clients_their_threads(
    fake_esi: FakeESIServer, esi_clock: ManualClock, own_redis: str, tmp_path: Path
) -> None:
    """Sixty calls of one client stalled on a paused Redis (each store call waits up to 5 s) do
    not hold up a call of another client that needs a worker thread for its own healthy store:
    it is answered before any stalled store call has even timed out."""
    made = partial(ESIClient, app_name="t", contact="t@x.invalid", base_url=fake_esi.url, clock=esi_clock)
    patient = redis.Redis.from_url(own_redis, socket_timeout=5.0)
    stuck = made(cache=RedisCache(patient), max_concurrency=4)
    healthy = made(cache=SQLiteCache(tmp_path / "healthy.sqlite"))
    _pause(own_redis, 30)
    tasks = [
        asyncio.ensure_future(get_universe_types_type_id.asyncio(34 + n % 5, client=stuck)) for n in range(60)
    ]
    await _all_store_threads_busy(stuck, 4)  # the stalled calls hold every thread they may
    status = await get_status.asyncio(client=healthy)
    assert status is not None
    assert stuck.cache is not None and cache_of(stuck).store_errors == 0, (
        "the healthy call waited for a stalled store call to time out"
    )
    assert not any(task.done() for task in tasks)
    await asyncio.gather(*tasks)
    await stuck.aclose()
    await healthy.aclose()


# -- what is in a store may be anything ----------------------------------------------------------


BAD_FIELDS = [
    ("fresh_until", "soon"),
    ("fresh_until", None),
    ("fresh_until", float("inf")),
    ("etag", 12345),
    ("etag", ["x"]),
    ("status", "200"),
    ("status", 9999),
    ("headers", {"x": 1}),
    ("headers", ["x"]),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS)
def test_a_redis_entry_of_any_shape_is_a_counted_miss(
    make_client: ClientFactory, own_redis: str, field: str, value: Any
) -> None:
    client = make_client(cache=RedisCache(own_redis))
    assert get_universe_types_type_id.sync(34, client=client).type_id == 34
    connection = _redis(own_redis)
    (key,) = [k for k in connection.keys("esikit:cache:*") if b"in-flight" not in k]
    meta, _, body = connection.get(key).partition(b"\n")
    data = orjson.loads(meta)
    data[field] = value
    connection.set(key, orjson.dumps(data) + b"\n" + body)
    again = make_client(cache=RedisCache(own_redis))
    assert get_universe_types_type_id.sync(34, client=again).type_id == 34
    assert cache_of(again).store_errors >= 1 and not cache_of(again).guard.down
    healed = make_client(cache=RedisCache(own_redis))  # the answer replaced the bad entry
    assert get_universe_types_type_id.sync(34, client=healed).type_id == 34
    assert cache_of(healed).store_errors == 0  # read back and used (served, or revalidated by its ETag)


@pytest.mark.parametrize("raw", [b"not json\nbody", b'{"status": 200}\nbody', b"[1, 2]\n", b"\xff\xfe"])
def test_an_unreadable_redis_entry_is_a_miss_not_an_outage(
    make_client: ClientFactory, own_redis: str, raw: bytes
) -> None:
    client = make_client(cache=RedisCache(own_redis))
    assert get_universe_types_type_id.sync(34, client=client).type_id == 34
    connection = _redis(own_redis)
    (key,) = [k for k in connection.keys("esikit:cache:*") if b"in-flight" not in k]
    connection.set(key, raw)
    again = make_client(cache=RedisCache(own_redis))
    assert get_universe_types_type_id.sync(34, client=again).type_id == 34
    assert cache_of(again).store_errors >= 1 and not cache_of(again).guard.down


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("fresh_until", "soon", "its expiry 'soon' is not a time"),
        ("etag", b"\x00\xff", "its ETag b'\\x00\\xff' is not text"),
        ("headers", b"{", "its headers or body cannot be read (unexpected end of data"),
        ("status", "x", "status 'x' is not an HTTP status"),
    ],
)
def test_a_sqlite_entry_of_any_shape_is_a_counted_miss(
    make_client: ClientFactory,
    tmp_path: Path,
    column: str,
    value: Any,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "cache.sqlite"
    assert get_universe_types_type_id.sync(34, client=make_client(cache=SQLiteCache(path))).type_id == 34
    with sqlite3.connect(path) as db:
        db.execute(f"UPDATE esi_cache SET {column} = ?", (value,))
    again = make_client(cache=SQLiteCache(path))
    assert get_universe_types_type_id.sync(34, client=again).type_id == 34
    assert cache_of(again).store_errors == 1 and not cache_of(again).guard.down
    (warned,) = [r.getMessage() for r in caplog.records if "is unusable" in r.getMessage()]
    assert f"is unusable ({reason}" in warned, warned
    healed = make_client(cache=SQLiteCache(path))
    assert get_universe_types_type_id.sync(34, client=healed).type_id == 34
    assert cache_of(healed).store_errors == 0  # read back and used (served, or revalidated by its ETag)


# -- the shared limits' keys may hold anything too ------------------------------------------------


def _plant(connection: Any, key: Any, kind: str) -> None:
    """Garbage of `kind` where the limits keep their state (hashes) or leases (sorted sets)."""
    existing = connection.type(key)
    if kind == "string":
        connection.delete(key)
        connection.set(key, "garbage")
    elif kind == "list":
        connection.delete(key)
        connection.rpush(key, "a", "b")
    elif kind == "hash-garbage" and existing == b"hash":
        fields = {"limit": "abc", "window": "-3", "remaining": "x", "paused_until": "1e300"}
        connection.hset(key, mapping={**fields, "remain": "none", "reset_at": "later"})
    elif kind == "zset-garbage" and existing == b"zset":
        connection.zadd(key, {"no-tokens-here": 1.0})


@pytest.mark.parametrize("kind", ["string", "list", "hash-garbage", "zset-garbage"])
def test_garbage_in_the_shared_limit_keys_is_replaced(
    make_client: ClientFactory, own_redis: str, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    limits = RedisLimits(own_redis, app="garbage-test")
    client = make_client(limits=limits, cache=False)
    assert get_status.sync(client=client).players >= 0
    connection = _redis(own_redis)
    keys = connection.keys("esikit:limits:garbage-test:*")
    assert keys
    for key in keys:
        _plant(connection, key, kind)
    with caplog.at_level(logging.WARNING, logger="esi_client"):
        for _ in range(3):
            assert get_status.sync(client=client).players >= 0
    assert client.stats.shared_limit_fallbacks == 0  # still shared: nothing fell back to local
    told = [r.getMessage() for r in caplog.records if "shared limits" in r.getMessage()]
    assert all("did not answer" not in message for message in told), told
    if kind in ("string", "list"):
        assert told and "replaced" in told[0] and f"({kind})" in told[0], told
        listed = re.search(r"does not write \((.*?); Redis said", told[0])  # each key, with its type
        assert listed is not None, told
        named = listed.group(1).split(", ")
        assert len(named) >= 2 and all(
            re.fullmatch(r"esikit:limits:garbage-test:\S+ \(\w+\)", n) for n in named
        )


def test_a_busy_process_does_not_take_redis_for_a_slow_store(own_redis: str) -> None:
    """A thread that holds the GIL (a busy worker: parsing, pandas, another task) makes each
    Redis command wait for the interpreter, not for Redis. Taking that for a slow store would
    leave the shared cache, and its claims, alone: every process would send its own request,
    the duplicates ESI bans apps for. (Redis's own socket timeouts tell a stalled Redis.)"""
    import sys
    import threading

    cache = ResponseCache(store=RedisCache(own_redis))
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            sum(range(10_000))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.7)  # the busy thread keeps the interpreter this long each time
    spinner = threading.Thread(target=busy)
    spinner.start()
    try:
        claimed = cache.claim("busy-key", 30)
        held = cache.claim("busy-key", 30)
        missing = cache.load_stored("busy-key")
    finally:
        stop.set()
        spinner.join()
        sys.setswitchinterval(interval)
    assert (claimed, held, missing) == (True, False, None)  # the claim was Redis's answer
    assert cache.guard.errors == 0 and not cache.guard.down


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json\nbody", "its metadata cannot be read (JSONDecodeError: "),
        (b'{"status": 200}\nbody', "its metadata cannot be read (KeyError: 'headers')"),
        (b"[1, 2]\n", "its metadata cannot be read (TypeError: "),
    ],
)
def test_an_unreadable_redis_entry_says_why(own_redis: str, raw: bytes, reason: str) -> None:
    store = RedisCache(own_redis)
    _redis(own_redis).set(store.prefix + "k", raw)
    with pytest.raises(UnusableEntry) as caught:
        store.load("k")
    assert str(caught.value).startswith(reason), caught.value


def test_a_redis_entry_keeps_a_body_with_newlines_and_a_claim_expires(own_redis: str) -> None:
    store = RedisCache(own_redis)
    entry = StoredResponse(200, {"etag": '"e"'}, b"[\n  1,\n  2\n]\n", '"e"', 1e12)  # pretty-printed
    store.save("k", entry)
    assert store.load("k") == entry
    assert store.claim("k", 30) and not store.claim("k", 30)  # one holder at a time
    assert 0 < _redis(own_redis).pttl(store.prefix + "in-flight:k") <= 30_000  # it expires
    store.release("k")
    assert store.claim("k", 30)
