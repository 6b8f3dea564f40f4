"""Paging against a lying ESI: it never drops pages, never loops and stops at the first error."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import pytest

from esi_client import BadResponseError, NotFoundError, RetryPolicy
from esi_client.api.freelance_jobs import get_freelance_jobs_listing
from esi_client.api.market import get_markets_region_id_orders
from esi_client.clock import ManualClock
from esi_client.paging import PagingError, aiter_cursor, all_pages, all_pages_async, iter_cursor
from tests.support.hostile_server import HostileServer, RawRequest, answer, client_for, replies

MODIFIED = "Thu, 01 Jan 2026 00:00:00 GMT"


def order(order_id: int) -> dict[str, Any]:
    return {
        "duration": 90,
        "is_buy_order": False,
        "issued": "2026-01-01T00:00:00Z",
        "location_id": 60003760,
        "min_volume": 1,
        "order_id": order_id,
        "price": 5.5,
        "range": "region",
        "system_id": 30000142,
        "type_id": 34,
        "volume_remain": 10,
        "volume_total": 10,
    }


class _Market:
    """An orders route whose page count and snapshot the test changes; supports ETag/304."""

    def __init__(self, pages: int) -> None:
        self.pages, self.modified, self.version = pages, MODIFIED, 1

    def etag(self, page: int) -> str:
        return f'"v{self.version}-p{page}"'

    def __call__(self, request: RawRequest, conn: socket.socket) -> None:
        page = int(request.query("page") or 1)
        headers = {
            "X-Pages": str(self.pages),
            "Last-Modified": self.modified,
            "ETag": self.etag(page),
            "Cache-Control": "max-age=300",
        }
        if request.headers.get("if-none-match") == self.etag(page):
            answer(conn, 304, b"", headers)
            return
        answer(conn, 200, [order(page * 1000 + n) for n in range(3)], headers)


def test_a_304_brings_its_own_headers(server: HostileServer) -> None:
    market = _Market(pages=5)
    server.on("/markets/10000002/orders", market)
    clock = ManualClock()
    client = client_for(server, clock=clock)
    assert len(all_pages(get_markets_region_id_orders.sync_detailed, 10000002, client=client)) == 15
    clock.advance(301)
    market.pages, market.modified = 6, "Thu, 01 Jan 2026 00:05:00 GMT"  # page 1 unchanged: a 304
    orders = all_pages(get_markets_region_id_orders.sync_detailed, 10000002, client=client)
    assert len(orders) == 18, "the 304 of page 1 must carry the new X-Pages"
    assert client.stats.not_modified >= 1
    clock.advance(301)
    assert (
        len(all_pages(get_markets_region_id_orders.sync_detailed, 10000002, client=client)) == 18
    )  # no PagingError


def test_all_pages_stops_at_the_first_error(server: HostileServer) -> None:
    def pages(request: RawRequest, conn: socket.socket) -> None:
        page = int(request.query("page") or 1)
        if page == 2:
            answer(conn, 404, {"error": "gone"})
            return
        time.sleep(0.01)
        answer(conn, 200, [order(page)], {"X-Pages": "100000", "Last-Modified": MODIFIED})

    server.on("/markets/10000002/orders", pages)
    client = client_for(server, retry=RetryPolicy(max_retries=0), max_concurrency=4)
    with pytest.raises(NotFoundError):
        all_pages(get_markets_region_id_orders.sync_detailed, 10000002, client=client)
    # Raised only once every page thread has finished: none is left to send another request,
    # and every request sent was answered (the server has seen each one).
    assert [t.name for t in threading.enumerate() if t.name.startswith("esi-page-")] == []
    assert client.error_budget.in_flight == 0
    sent = server.count("/markets/10000002/orders")
    assert sent == client.stats.requests and sent < 50, f"{sent} requests after the failing page"


async def test_all_pages_async_cancels_what_is_in_flight(server: HostileServer) -> None:
    def pages(request: RawRequest, conn: socket.socket) -> None:
        page = int(request.query("page") or 1)
        if page == 3:
            answer(conn, 404, {"error": "gone"})
            return
        if page > 1:
            time.sleep(0.2)
        answer(conn, 200, [order(page)], {"X-Pages": "100000", "Last-Modified": MODIFIED})

    server.on("/markets/10000002/orders", pages)
    client = client_for(server, retry=RetryPolicy(max_retries=0), max_concurrency=4)
    with pytest.raises(NotFoundError):
        await all_pages_async(get_markets_region_id_orders.asyncio_detailed, 10000002, client=client)
    # Raised once the pages in flight were cancelled and had given their slots back: no task of
    # the walk is left to ask for another page.
    assert asyncio.all_tasks() == {asyncio.current_task()}, "pages went on being requested"
    assert client.error_budget.in_flight == 0
    assert server.count("/markets/10000002/orders") <= client.stats.requests < 20
    await client.aclose()


@pytest.mark.parametrize("pages", ["abc", "0", "-3", "2.5", "1000000", "9" * 50])  # 7 digits: not ESI's
def test_a_bad_page_count_is_a_bad_response(server: HostileServer, pages: str) -> None:
    def handle(_request: RawRequest, conn: socket.socket) -> None:
        answer(conn, 200, [order(1)], {"X-Pages": pages})

    server.on("/markets/10000002/orders", handle)
    with pytest.raises(BadResponseError) as caught:
        all_pages(get_markets_region_id_orders.sync_detailed, 10000002, client=client_for(server))
    error = caught.value
    assert (error.path, error.value) == ("X-Pages", pages)
    assert str(error) == f"GetMarketsRegionIdOrders: X-Pages is {pages[:40]!r}, not a page count"


@pytest.mark.parametrize("pages", ["1", None], ids=["one", "no-header"])
def test_one_page_or_no_page_count_is_a_single_page(server: HostileServer, pages: str | None) -> None:
    def handle(_request: RawRequest, conn: socket.socket) -> None:
        answer(conn, 200, [order(1)], {"X-Pages": pages} if pages else {})

    server.on("/markets/10000002/orders", handle)
    orders = all_pages(get_markets_region_id_orders.sync_detailed, 10000002, client=client_for(server))
    assert [o.order_id for o in orders] == [1] and server.count("/markets/10000002/orders") == 1


def _listing(cursor: dict[str, str], jobs: int = 1) -> dict[str, Any]:
    return {"cursor": cursor, "freelance_jobs": [_job(n) for n in range(jobs)]}


def _job(n: int) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-0000-0000-{n:012d}",
        "last_modified": "2026-01-01T00:00:00Z",
        "name": f"job {n}",
        "progress": {"current": 0, "desired": 10},
        "reward": {"initial": 1.0, "remaining": 1.0},
        "state": "Active",
    }


def test_a_cursor_walk_that_alternates_raises(server: HostileServer) -> None:
    def alternate(request: RawRequest, conn: socket.socket) -> None:
        token = request.query("before")
        following = "B" if token in ("0", "A") else "A"
        answer(conn, 200, _listing({"before": following, "after": "x"}))

    server.on("/freelance-jobs", alternate)
    client = client_for(server, cache=False)
    with pytest.raises(PagingError) as caught:
        list(iter_cursor(get_freelance_jobs_listing.sync, client=client, before="0"))
    assert caught.value.operation_id == "GetFreelanceJobsListing"
    assert str(caught.value) == (
        "GetFreelanceJobsListing: the server handed out the before cursor 'B' a second time: "
        "the walk would never end"
    )
    assert server.count("/freelance-jobs") <= 4


async def test_a_cursor_walk_that_alternates_raises_async(server: HostileServer) -> None:
    def alternate(request: RawRequest, conn: socket.socket) -> None:
        token = request.query("after")
        following = "B" if token in ("0", "A") else "A"
        answer(conn, 200, _listing({"after": following, "before": "x"}))

    server.on("/freelance-jobs", alternate)
    client = client_for(server, cache=False)
    with pytest.raises(PagingError):
        [record async for record in aiter_cursor(get_freelance_jobs_listing.asyncio, client=client)]
    await client.aclose()


def test_a_cursor_walk_ends_on_an_empty_page(server: HostileServer) -> None:
    def walk(request: RawRequest, conn: socket.socket) -> None:
        token = request.query("before") or "0"
        step = 0 if token == "0" else int(token.removeprefix("t"))
        jobs = 0 if step >= 3 else 2
        answer(conn, 200, _listing({"before": f"t{step + 1}", "after": "x"}, jobs=jobs))

    server.on("/freelance-jobs", walk)
    records = list(iter_cursor(get_freelance_jobs_listing.sync, client=client_for(server), before="0"))
    assert len(records) == 6
    assert server.count("/freelance-jobs") == 4  # three pages and the empty one


@pytest.mark.parametrize(
    "cursor", [None, {}, {"before": "", "after": "x"}], ids=["no-cursor", "no-token", "empty-token"]
)
def test_a_page_without_a_following_token_ends_the_walk(server: HostileServer, cursor: Any) -> None:
    page = _listing(cursor or {}, jobs=2)
    if cursor is None:
        del page["cursor"]
    server.on("/freelance-jobs", replies(200, page))
    records = list(iter_cursor(get_freelance_jobs_listing.sync, client=client_for(server), before="0"))
    assert [record.name for record in records] == ["job 0", "job 1"]
    assert server.count("/freelance-jobs") == 1


@pytest.mark.parametrize("length", [512, 513])
def test_a_cursor_token_longer_than_512_characters_is_refused(server: HostileServer, length: int) -> None:
    """ESI's tokens are short: a longer one is a broken answer, named, not sent back to ESI."""
    token = "t" * (length - 4) + f"{length:04d}"

    def walk(request: RawRequest, conn: socket.socket) -> None:
        first = request.query("after") == "0"
        answer(conn, 200, _listing({"after": token if first else "", "before": "x"}, jobs=1 if first else 0))

    server.on("/freelance-jobs", walk)
    client = client_for(server)
    if length == 512:
        assert len(list(iter_cursor(get_freelance_jobs_listing.sync, client=client))) == 1
        assert server.count("/freelance-jobs") == 2
        return
    with pytest.raises(BadResponseError) as caught:
        list(iter_cursor(get_freelance_jobs_listing.sync, client=client))
    error = caught.value
    assert (error.operation_id, error.path, error.value) == (
        "GetFreelanceJobsListing",
        "cursor.after",
        "t" * 40 + "…",
    )
    assert (
        str(error) == "GetFreelanceJobsListing: the after cursor is 513 characters long, not a cursor token"
    )
    assert server.count("/freelance-jobs") == 1


def test_a_walk_passes_the_callers_arguments_on_every_page(server: HostileServer) -> None:
    seen: list[str | None] = []

    def pages(request: RawRequest, conn: socket.socket) -> None:
        seen.append(request.query("order_type"))
        page = int(request.query("page") or 1)
        answer(conn, 200, [order(page)], {"X-Pages": "3", "Last-Modified": MODIFIED})

    server.on("/markets/10000002/orders", pages)
    orders = all_pages(
        get_markets_region_id_orders.sync_detailed, 10000002, client=client_for(server), order_type="sell"
    )
    assert [o.order_id for o in orders] == [1, 2, 3] and seen == ["sell"] * 3


async def test_a_cursor_walk_passes_the_callers_arguments_on_every_page(server: HostileServer) -> None:
    seen: list[str | None] = []

    def walk(request: RawRequest, conn: socket.socket) -> None:
        seen.append(request.query("limit"))
        first = request.query("after") == "0"
        answer(conn, 200, _listing({"after": "t1" if first else "", "before": "x"}, jobs=1))

    server.on("/freelance-jobs", walk)
    client = client_for(server, cache=False)
    assert len(list(iter_cursor(get_freelance_jobs_listing.sync, client=client, limit=30))) == 2
    assert (
        len([job async for job in aiter_cursor(get_freelance_jobs_listing.asyncio, client=client, limit=40)])
        == 2
    )
    assert seen == ["30", "30", "40", "40"]
    await client.aclose()
