"""A long-running process stays bounded (memory, disk, retries) and every caller keeps its own
deadline; paging never loses the pages a later page reports."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from esi_client import DeadlineExceededError, RetryPolicy
from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.status import get_status
from esi_client.cache_stores import ResponseCache, SQLiteCache, StoredResponse
from esi_client.clock import ManualClock
from esi_client.paging import Walk, all_pages_async
from tests.support.hostile_server import HostileServer, RawRequest, answer, client_for, silent
from tests.test_hostile_paging import MODIFIED, order

STATUS = {"players": 1, "server_version": "1", "start_time": "2026-01-01T00:00:00Z"}


class _GrowingMarket:
    """Page 1 says `first_says` pages; every later page says `later_say` (same snapshot)."""

    def __init__(self, first_says: int, later_say: int) -> None:
        self.first_says, self.later_say = first_says, later_say

    def __call__(self, request: RawRequest, conn: socket.socket) -> None:
        page = int(request.query("page") or 1)
        pages = self.first_says if page == 1 else self.later_say
        if page > max(self.first_says, self.later_say):
            answer(conn, 404, {"error": "page out of range"})
            return
        headers = {"X-Pages": str(pages), "Last-Modified": MODIFIED}
        answer(conn, 200, [order(page * 1000 + n) for n in range(2)], headers)


@pytest.mark.parametrize(("first", "later"), [(2, 5), (2, 3), (3, 7)])
def test_a_later_page_reporting_more_pages_is_followed(server: HostileServer, first: int, later: int) -> None:
    server.on("/markets/10000002/orders", _GrowingMarket(first, later))
    seen: list[tuple[int, int]] = []
    items = Walk(on_page=lambda d, t: seen.append((d, t))).all_pages(
        get_markets_region_id_orders.sync_detailed, 10000002, client=client_for(server)
    )
    assert sorted(item.order_id // 1000 for item in items) == sorted([p for p in range(1, later + 1)] * 2)
    assert seen[-1] == (later, later)


async def test_a_later_page_reporting_more_pages_is_followed_async(server: HostileServer) -> None:
    server.on("/markets/10000002/orders", _GrowingMarket(2, 4))
    client = client_for(server)
    items = await all_pages_async(get_markets_region_id_orders.asyncio_detailed, 10000002, client=client)
    assert [item.order_id // 1000 for item in items] == [1, 1, 2, 2, 3, 3, 4, 4]
    await client.aclose()


def test_429_waits_do_not_spend_the_5xx_retries(server: HostileServer) -> None:
    """Two 429s then a 503 then an answer: three retries in the policy, and the caller is
    answered (the 429s' bounded waits have a budget of their own)."""
    from esi_client.api.dogma import get_dogma_attributes

    script = iter([(429, {"Retry-After": "0"}), (429, {"Retry-After": "0"}), (503, {}), (503, {}), (503, {})])

    def attributes(_request: RawRequest, conn: socket.socket) -> None:
        status, headers = next(script, (200, {}))
        answer(conn, status, [1, 2] if status == 200 else {"error": "busy"}, headers)

    server.on("/dogma/attributes", attributes)
    client = client_for(server, retry=RetryPolicy(max_retries=3, backoff_base=0.01, backoff_cap=0.02))
    assert get_dogma_attributes.sync(client=client) == [1, 2]
    assert server.count("/dogma/attributes") == 6


def test_each_follower_keeps_its_own_deadline(server: HostileServer) -> None:
    """Four identical calls with deadline=1 against a server that never answers: each ends by
    its own deadline, not after the leaders before it failed one by one."""
    server.on("/status", silent(10))  # never answers within the calls' deadlines
    client = client_for(server, deadline=1.0, timeout=30)
    ended: list[float] = []
    started = time.monotonic()

    def call() -> None:
        try:
            get_status.sync(client=client)
        except DeadlineExceededError:
            ended.append(time.monotonic() - started)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(ended) == 4 and max(ended) < 2.5, ended


async def test_each_async_follower_keeps_its_own_deadline(server: HostileServer) -> None:
    server.on("/status", silent(10))  # never answers within the calls' deadlines
    client = client_for(server, deadline=1.0, timeout=30)
    started = time.monotonic()
    results = await asyncio.gather(
        *(get_status.asyncio(client=client) for _ in range(4)), return_exceptions=True
    )
    took = time.monotonic() - started
    assert all(isinstance(result, DeadlineExceededError) for result in results), results
    assert took < 2.5, took
    await client.aclose()


def test_the_memory_cache_is_bounded_by_bytes() -> None:
    from esi_client.runtime.cache.memory import CacheEntry

    cache = ResponseCache(max_bytes=1_000_000)
    body = b"x" * 170_000  # a 1,000-order page
    for n in range(50):
        cache.remember(f"page-{n}", CacheEntry(200, {"etag": "e"}, body, "e", 1e12))
    assert cache.bytes <= 1_000_000 and 1 <= len(cache) <= 5
    assert cache.get("page-49") is not None and cache.get("page-0") is None  # the oldest went first
    cache.remember("huge", CacheEntry(200, {}, b"x" * 2_000_000, None, 1e12))
    assert cache.get("huge") is None and cache.bytes <= 1_000_000
    cache.clear()
    assert cache.bytes == 0 and len(cache) == 0


def test_the_default_memory_cache_holds_a_crawl_within_its_byte_budget(server: HostileServer) -> None:
    big = [order(n) for n in range(1000)]

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        answer(conn, 200, big, {"Cache-Control": "max-age=300", "X-Pages": "1"})

    server.on("*", handle)
    client = client_for(server, cache=ResponseCache(max_bytes=5_000_000))
    for region in range(10000001, 10000041):
        assert len(get_markets_region_id_orders.sync(region, client=client)) == 1000
    assert client.cache.bytes <= 5_000_000 and len(client.cache) < 40


def test_a_sqlite_cache_stays_bounded_as_it_goes(tmp_path: Path) -> None:
    store = SQLiteCache(tmp_path / "cache.sqlite", max_bytes=2_000_000)
    body = b"y" * 100_000
    now = time.time()
    for n in range(200):  # 20 MB offered; expired entries without an ETag go first
        etag, fresh_until = (None, now - 1) if n % 2 else (f'"{n}"', now + 60)
        store.save(f"key-{n}", StoredResponse(200, {"x-n": str(n)}, body, etag, fresh_until))
    assert store.size() <= 2_000_000 * 9 // 8 + len(body)  # over by at most an eighth between trims
    assert store.load("key-191") is None  # expired, no ETag: pruned as it went (every 64 saves)
    assert store.load("key-198") is not None  # the newest revalidatable entry is kept
    size_on_disk = (tmp_path / "cache.sqlite").stat().st_size + (tmp_path / "cache.sqlite-wal").stat().st_size
    assert size_on_disk < 6_000_000, size_on_disk  # 20 MB offered
    store.maintain()
    assert store.size() <= 2_000_000


def _expired(size: int) -> StoredResponse:
    """An entry nothing can revalidate (no ETag) and already stale: the first a trim drops."""
    return StoredResponse(200, {}, b"z" * size, None, time.time() - 1)


def test_a_sqlite_cache_trims_every_64_saves(tmp_path: Path) -> None:
    store = SQLiteCache(tmp_path / "nested" / "dirs" / "cache.sqlite")  # its folders are created
    for n in range(63):
        store.save(f"key-{n}", _expired(10))
    assert store.load("key-0") is not None and store.load("key-62") is not None  # not trimmed yet
    store.save("key-63", _expired(10))  # the 64th save trims
    assert [n for n in range(64) if store.load(f"key-{n}") is not None] == []
    for n in range(63):
        store.save(f"again-{n}", _expired(10))
    assert store.load("again-0") is not None  # 127 saves: the next trim is at 128
    store.save("again-63", _expired(10))
    assert store.load("again-0") is None


def test_a_sqlite_cache_trims_once_an_eighth_of_its_budget_is_saved(tmp_path: Path) -> None:
    store = SQLiteCache(tmp_path / "cache.sqlite", max_bytes=8000)  # an eighth: 1000 bytes
    store.save("first", _expired(1000))
    assert store.load("first") is not None  # 1000 bytes saved: not more than an eighth yet
    store.save("second", _expired(1))
    assert store.load("first") is None and store.load("second") is None  # 1001: trimmed
    store.save("third", _expired(1000))  # counted afresh from the trim
    assert store.load("third") is not None
    store.save("fourth", _expired(1))
    assert store.load("third") is None


def test_a_sqlite_cache_over_its_budget_drops_the_oldest_until_within(tmp_path: Path) -> None:
    keep = StoredResponse(200, {}, b"k" * 98, '"e"', time.time() + 60)  # 100 bytes with its headers
    store = SQLiteCache(tmp_path / "cache.sqlite", max_bytes=10**9)
    for n in range(200):
        store.save(f"key-{n:03}", keep)
    assert store.size() == 200 * 100
    store.max_bytes = 200 * 100
    assert store.maintain() == 0  # exactly at the budget: nothing goes
    store.max_bytes = 5_000  # 150 must go: three batches of 64, from the oldest
    assert store.maintain() == 192 and store.size() == 800
    assert [n for n in range(200) if store.load(f"key-{n:03}") is not None] == list(range(192, 200))
    assert (tmp_path / "cache.sqlite-wal").stat().st_size == 0  # the freed pages went back to the file


def test_a_sqlite_cache_prunes_what_is_older_than_asked(tmp_path: Path) -> None:
    store = SQLiteCache(tmp_path / "cache.sqlite")
    store.save("revalidatable", StoredResponse(200, {}, b"[]", '"e"', time.time() - 1))
    assert store.prune() == 0  # stale but revalidatable, and newer than `keep_stale`
    assert store.prune(older_than=3600) == 0
    assert store.prune(older_than=-60) == 1 and store.load("revalidatable") is None  # a minute ahead


def test_the_memory_cache_counts_an_entry_as_its_body_headers_and_200_bytes() -> None:
    from esi_client.runtime.cache.memory import CacheEntry

    cache = ResponseCache(max_bytes=2 * 1005)
    entry = CacheEntry(200, {"etag": '"e"', "x-pages": "3"}, b"b" * 790, '"e"', 1e12)  # 790 + 7 + 8 + 200
    cache.remember("one", entry)
    assert cache.bytes == 1005
    cache.remember("two", entry)
    assert cache.bytes == 2010 and len(cache) == 2  # exactly the budget: both kept
    cache.remember("three", entry)
    assert cache.bytes == 2010 and cache.get("one") is None  # over it: the oldest went
    whole = ResponseCache(max_bytes=1005)
    whole.remember("alone", entry)  # one entry the size of the whole budget is kept
    assert whole.get("alone") is not None and whole.bytes == 1005


def test_a_follower_with_a_shorter_deadline_ends_by_it_while_its_leader_waits_on(
    server: HostileServer,
) -> None:
    arrived, release = threading.Event(), threading.Event()

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        arrived.set()
        release.wait(30)
        answer(conn, 200, {"players": 1, "server_version": "1", "start_time": "2026-01-01T00:00:00Z"})

    server.on("/status", handle)
    client = client_for(server, deadline=60)
    with ThreadPoolExecutor(2) as pool:
        leader = pool.submit(get_status.sync, client=client)
        assert arrived.wait(30)
        follower = pool.submit(get_status.sync, client=client.with_deadline(0.5))
        with pytest.raises(DeadlineExceededError, match=r"passed while an identical request was in flight$"):
            follower.result(timeout=20)
        assert not leader.done()
        release.set()
        assert leader.result(30).players == 1
    assert server.count("/status") == 1


def test_a_wait_for_the_error_limit_past_the_deadline_is_not_begun(server: HostileServer) -> None:
    """ESI said 5 errors are left (the threshold is 10) for 30 s more: a call with 10 s of its
    deadline left ends at once, without waiting or sending."""
    answers = iter([{"X-ESI-Error-Limit-Remain": "5", "X-ESI-Error-Limit-Reset": "30"}])
    server.on(
        "/status",
        lambda _request, conn: answer(
            conn,
            200,
            {"players": 1, "server_version": "1", "start_time": "2026-01-01T00:00:00Z"},
            next(answers, {}),
        ),
    )
    clock = ManualClock()
    client = client_for(server, clock=clock, max_wait=60, deadline=10)
    assert get_status.sync(client=client).players == 1  # kept by nothing: no freshness, no ETag
    with pytest.raises(DeadlineExceededError, match=r"before a wait of 30\.0 s \(error limit\)"):
        get_status.sync(client=client)
    assert clock.sleeps == [] and server.count("/status") == 1
