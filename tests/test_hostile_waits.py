"""The runtime against a misbehaving ESI: it never wedges and never waits without bound.

Every server here is a loopback socket scripted at the byte level (tests/support/hostile_server.py).
"""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import socket
import threading
import time
from typing import Any

import httpx2
import pytest

from esi_client import (
    ConfigurationError,
    DeadlineExceededError,
    ErrorLimitedError,
    ESIClient,
    ESIError,
    NotFoundError,
    RateLimitedError,
    RetryPolicy,
)
from esi_client.api.dogma import get_dogma_attributes
from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.status import get_status
from esi_client.clock import ManualClock
from esi_client.paging import all_pages_async
from tests.support.hostile_server import (
    HostileServer,
    RawRequest,
    answer,
    client_for,
    replies,
    reset,
    silent,
    trickle,
    trickle_headers,
)

STATUS = {"players": 1, "server_version": "1", "start_time": "2026-01-01T00:00:00Z"}
BUDGET = {"X-ESI-Error-Limit-Remain": "100", "X-ESI-Error-Limit-Reset": "1"}


class _Switch:
    """A status route that hangs while `hang` is set, else answers with the error budget."""

    def __init__(self) -> None:
        self.hang = threading.Event()

    def __call__(self, _request: RawRequest, conn: socket.socket) -> bool | None:
        if self.hang.is_set():
            time.sleep(2)
            return True
        answer(conn, 200, STATUS, {**BUDGET, "X-Ratelimit-Remaining": "590", "X-Ratelimit-Used": "2"})
        return None


# -- cancellation never leaks a slot -------------------------------------------------------------


async def test_a_cancelled_call_leaks_no_slot(server: HostileServer) -> None:
    switch = _Switch()
    server.on("/status", switch)
    clock = ManualClock()
    client = client_for(server, clock=clock)
    await get_status.asyncio(client=client)  # the budget is known now
    switch.hang.set()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(get_status.asyncio(client=client.revalidating()), 0.2)
    assert client.error_budget.in_flight == 0  # the cancelled call gave its slot back
    switch.hang.clear()
    clock.advance(1.1)  # the error window resets: the budget is unknown again
    before = server.count("/status")
    await asyncio.wait_for(get_status.asyncio(client=client.revalidating()), 3)
    assert server.count("/status") == before + 1
    get_status.sync(client=client.revalidating())  # the sync side is not wedged either
    await client.aclose()


class _InterruptOnce(httpx2.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.interrupted = False

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt
        return super().handle_request(request)


def test_a_keyboard_interrupt_mid_request_leaks_no_slot(server: HostileServer) -> None:
    server.on("/status", _Switch())
    clock = ManualClock()
    client = client_for(server, transport=_InterruptOnce(), clock=clock)
    with pytest.raises(KeyboardInterrupt):
        get_status.sync(client=client)
    assert client.error_budget.in_flight == 0  # the interrupted call gave its slot back
    # Budget learned after the interrupt; the leaked slot would block every call after the reset.
    get_status.sync(client=client.revalidating())
    clock.advance(1.1)
    before = server.count("/status")
    done = threading.Event()

    def call() -> None:
        get_status.sync(client=client.revalidating())
        done.set()

    threading.Thread(target=call, daemon=True).start()
    assert done.wait(3), "the client is wedged after a KeyboardInterrupt"
    assert server.count("/status") == before + 1


async def test_a_failing_all_pages_async_leaks_no_slot(server: HostileServer) -> None:
    def pages(request: RawRequest, conn: socket.socket) -> bool | None:
        page = int(request.query("page") or 1)
        if page == 3:
            answer(conn, 404, {"error": "gone"}, BUDGET)
            return None
        if page > 1:
            time.sleep(0.3)  # still in flight when page 3 fails
        answer(conn, 200, [], {**BUDGET, "X-Pages": "8", "Last-Modified": "Thu, 01 Jan 2026 00:00:00 GMT"})
        return None

    server.on("/markets/10000002/orders", pages)
    server.on("/status", _Switch())
    clock = ManualClock()
    client = client_for(server, retry=RetryPolicy(max_retries=0), clock=clock)
    with pytest.raises(NotFoundError):
        await all_pages_async(get_markets_region_id_orders.asyncio_detailed, 10000002, client=client)
    assert client.error_budget.in_flight == 0  # the cancelled pages gave their slots back
    clock.advance(1.1)  # the error window resets: the budget is unknown again
    before = server.count("/status")
    await asyncio.wait_for(get_status.asyncio(client=client), 3)
    assert server.count("/status") == before + 1
    await client.aclose()


# -- waits are capped ------------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after", ["86400", "1e20"])
def test_a_huge_retry_after_raises_instead_of_waiting(server: HostileServer, retry_after: str) -> None:
    server.on("/status", replies(429, {"error": "slow down"}, {"Retry-After": retry_after}))
    clock = ManualClock()
    with pytest.raises(RateLimitedError) as caught:
        get_status.sync(client=client_for(server, clock=clock))
    assert caught.value.retry_after is not None and caught.value.retry_after >= 86400
    assert all(seconds <= 60 for seconds in clock.sleeps)
    assert server.count("/status") == 1


def test_retry_after_as_an_http_date(server: HostileServer) -> None:
    clock = ManualClock()
    later = email.utils.formatdate(clock.now() + 30, usegmt=True)
    calls = iter([429, 200])

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        status = next(calls)
        answer(conn, status, STATUS if status == 200 else {"error": "x"}, {"Retry-After": later})

    server.on("/status", handle)
    get_status.sync(client=client_for(server, clock=clock))
    assert any(25 <= seconds <= 31 for seconds in clock.sleeps), clock.sleeps


def test_a_long_error_limit_reset_raises_instead_of_waiting(server: HostileServer) -> None:
    server.on(
        "/status",
        replies(
            420,
            {"error": "error limited"},
            {"X-ESI-Error-Limit-Remain": "0", "X-ESI-Error-Limit-Reset": "86400"},
        ),
    )
    clock = ManualClock()
    client = client_for(server, clock=clock)
    with pytest.raises(ErrorLimitedError):
        get_status.sync(client=client)
    with pytest.raises(ErrorLimitedError) as caught:
        get_status.sync(client=client)  # refused locally: waiting a day is not an option
    assert caught.value.retry_after is not None and caught.value.retry_after > 80000
    assert server.count("/status") == 1
    assert all(seconds <= 60 for seconds in clock.sleeps)


def test_max_wait_is_a_setting(server: HostileServer) -> None:
    calls = iter([429, 200])

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        status = next(calls)
        answer(conn, status, STATUS if status == 200 else {"error": "x"}, {"Retry-After": "300"})

    server.on("/status", handle)
    clock = ManualClock()
    assert get_status.sync(client=client_for(server, clock=clock, max_wait=600)).players == 1
    assert 300.0 in clock.sleeps


# -- a call has a deadline ---------------------------------------------------------------------------


def test_a_trickling_body_ends_at_the_deadline(server: HostileServer) -> None:
    server.on("/status", trickle(b'{"players": 1, "server_version": "1", "start_time": "x"}', every=0.25))
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError, match="GetStatus"):
        get_status.sync(client=client_for(server, deadline=1.0))
    assert time.monotonic() - started < 5


async def test_a_trickling_body_ends_at_the_deadline_async(server: HostileServer) -> None:
    server.on("/status", trickle(b'{"players": 1, "server_version": "1", "start_time": "x"}', every=0.25))
    client = client_for(server, deadline=1.0)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        await get_status.asyncio(client=client)
    assert time.monotonic() - started < 5
    await client.aclose()


def test_trickling_headers_end_at_the_deadline(server: HostileServer) -> None:
    """Every read gets a byte in time, so only a bound on the whole exchange ends the call."""
    server.on("/status", trickle_headers(every=0.1))
    client = client_for(server, deadline=1.0, timeout=30)
    for _ in range(2):  # a fresh connection, then (after the first was dropped) another one
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError) as ended:
            get_status.sync(client=client)
        assert str(ended.value).startswith(
            "GetStatus: the call's deadline (1 s for every attempt and wait) passed "
            "while waiting for ESI's answer"
        )
        assert time.monotonic() - started < 3


async def test_trickling_headers_end_at_the_deadline_async(server: HostileServer) -> None:
    server.on("/status", trickle_headers(every=0.1))
    client = client_for(server, deadline=1.0, timeout=30)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError, match="GetStatus"):
        await get_status.asyncio(client=client)
    assert time.monotonic() - started < 3
    await client.aclose()


def test_a_slow_upload_ends_at_the_deadline(server: HostileServer) -> None:
    """A server that never reads: the request body's writes block; the deadline ends them."""
    from esi_client.api.universe import post_universe_names

    server.on("/universe/names", silent(10))
    client = client_for(server, deadline=1.0, timeout=30)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        post_universe_names.sync(client=client, body=list(range(1, 1001)))
    assert time.monotonic() - started < 3


def test_a_silent_server_ends_at_the_deadline_across_retries(server: HostileServer) -> None:
    server.on("/status", silent(10))
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        get_status.sync(client=client_for(server, timeout=30, deadline=1.5))
    assert time.monotonic() - started < 6


def test_a_deadline_per_call(server: HostileServer) -> None:
    server.on("/status", silent(10))
    client = client_for(server, timeout=30)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        get_status.sync(client=client.with_deadline(1.0))
    assert time.monotonic() - started < 6
    assert client.deadline is None or client.deadline > 1.0


# -- 429s and unknown budgets ------------------------------------------------------------------------


def test_429_without_a_rate_limit_group_honours_retry_after(server: HostileServer) -> None:
    assert get_dogma_attributes.OPERATION.rate_limit is None
    calls = iter([429, 200])

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        status = next(calls)
        answer(conn, status, [1, 2] if status == 200 else {"error": "x"}, {"Retry-After": "7"})

    server.on("/dogma/attributes", handle)
    clock = ManualClock()
    assert get_dogma_attributes.sync(client=client_for(server, clock=clock)) == [1, 2]
    assert 7.0 in clock.sleeps


def test_429_without_any_header_backs_off(server: HostileServer) -> None:
    calls = iter([429, 429, 200])

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        status = next(calls)
        answer(conn, status, STATUS if status == 200 else {"error": "x"})

    server.on("/status", handle)
    clock = ManualClock()
    assert get_status.sync(client=client_for(server, clock=clock)).players == 1
    assert len([s for s in clock.sleeps if s >= 1]) >= 2, clock.sleeps


async def test_an_unknown_error_budget_does_not_serialise_requests(server: HostileServer) -> None:
    together = threading.Barrier(16, timeout=30)  # all sixteen in flight at once, or broken

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        together.wait()
        answer(conn, 200, [1])  # no error-limit headers at all

    server.on("/dogma/attributes", handle)
    client = client_for(server, cache=False)
    await asyncio.gather(*(get_dogma_attributes.asyncio(client=client) for _ in range(16)))
    assert not together.broken and server.count("/dogma/attributes") == 16
    await client.aclose()


# -- settings are checked -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"max_concurrency": 0},
        {"max_concurrency": -1},
        {"error_threshold": 150},
        {"error_threshold": -1},
        {"timeout": 0},
        {"max_wait": -1},
        {"deadline": 0},
        {"max_body_bytes": 0},
    ],
)
def test_bad_settings_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match=next(iter(options))):
        ESIClient(app_name="a", contact="b", **options)


# -- one client, several event loops ------------------------------------------------------------------


def test_one_client_serves_several_event_loops(server: HostileServer) -> None:
    server.on("/status", replies(200, STATUS))
    client = client_for(server, cache=False)
    assert asyncio.run(get_status.asyncio(client=client)).players == 1
    assert asyncio.run(get_status.asyncio(client=client)).players == 1
    results: list[object] = []

    def in_its_own_loop() -> None:
        try:
            results.append(asyncio.run(get_status.asyncio(client=client)).players)
        except BaseException as exc:
            results.append(exc)

    threads = [threading.Thread(target=in_its_own_loop) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [1, 1, 1, 1]


# -- bodies are bounded ---------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused(server: HostileServer) -> None:
    from esi_client import ResponseTooLargeError

    server.on("/dogma/attributes", replies(200, list(range(400_000))))
    with pytest.raises(ResponseTooLargeError, match="GetDogmaAttributes"):
        get_dogma_attributes.sync(client=client_for(server, max_body_bytes=1_000_000))


def test_a_gzip_bomb_is_refused_while_inflating(server: HostileServer) -> None:
    import tracemalloc

    from esi_client import ResponseTooLargeError
    from tests.support.hostile_server import gzip_bomb

    bomb = gzip_bomb(300_000_000)
    server.on("/dogma/attributes", replies(200, bomb, {"Content-Encoding": "gzip"}))
    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLargeError):
            get_dogma_attributes.sync(client=client_for(server, max_body_bytes=5_000_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 80_000_000, f"peak {peak / 1e6:.0f} MB"


def test_a_broken_gzip_body_is_a_bad_response(server: HostileServer) -> None:
    from esi_client import BadResponseError

    server.on("/status", replies(200, b"\x1f\x8bnot gzip at all", {"Content-Encoding": "gzip"}))
    with pytest.raises(BadResponseError, match=r"GetStatus: .*decompress"):
        get_status.sync(client=client_for(server))


def test_every_failure_is_an_esi_error(server: HostileServer) -> None:
    server.on("/status", replies(429, {"error": "x"}, {"Retry-After": "86400"}))
    with pytest.raises(ESIError):
        get_status.sync(client=client_for(server))


def _whitespace_gzip(size: int) -> bytes:
    return gzip.compress(b" " * size, compresslevel=9)


@pytest.mark.parametrize(("extra", "too_large"), [(0, False), (1, True)])
def test_the_default_body_cap_is_64_mib(server: HostileServer, extra: int, too_large: bool) -> None:
    """runtime.md: `max_body_bytes` defaults to 64 MiB, counted after inflating. A body of
    exactly 64 MiB passes the cap (whitespace: then refused as empty), one byte more does not."""
    from esi_client import BadResponseError, ResponseTooLargeError

    body = _whitespace_gzip(64 * 1024 * 1024 + extra)
    server.on("/dogma/attributes", replies(200, body, {"Content-Encoding": "gzip"}))
    with pytest.raises(BadResponseError) as refused:
        get_dogma_attributes.sync(client=client_for(server))
    assert isinstance(refused.value, ResponseTooLargeError) is too_large, refused.value


@pytest.mark.parametrize(("retry_after", "waits"), [(60, True), (61, False)])
def test_the_default_max_wait_is_60_seconds(server: HostileServer, retry_after: int, waits: bool) -> None:
    """runtime.md: a single wait longer than `max_wait` (default 60 s) raises at once with
    `retry_after`; 60 s is waited, then the call is retried."""
    answers = iter([(429, {"error": "slow down"}, {"Retry-After": str(retry_after)})])

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        status, body, headers = next(answers, (200, STATUS, {}))
        answer(conn, status, body, headers)

    server.on("/status", handle)
    clock = ManualClock()
    client = client_for(server, clock=clock)
    if waits:
        assert get_status.sync(client=client).players == STATUS["players"]
        assert clock.sleeps == [60.0] and server.count("/status") == 2
        return
    with pytest.raises(RateLimitedError) as refused:
        get_status.sync(client=client)
    assert refused.value.retry_after == 61 and clock.sleeps == [] and server.count("/status") == 1


def test_a_retry_after_a_dropped_connection_is_not_begun_past_the_deadline(server: HostileServer) -> None:
    """The server drops the connection; the retry's backoff (at least 5 s here) would end past
    the call's deadline (2 s), so the call ends at once, naming what failed."""
    from esi_client import RetryPolicy
    from esi_client.clock import ManualClock

    server.on("/status", reset)
    clock = ManualClock()
    client = client_for(
        server, clock=clock, deadline=2.0, retry=RetryPolicy(max_retries=3, backoff_base=10.0)
    )
    with pytest.raises(
        DeadlineExceededError, match=r"before a wait of \d+\.\d s \((ReadError|RemoteProtocolError)\)"
    ):
        get_status.sync(client=client)
    assert clock.sleeps == [] and server.count("/status") == 1


def test_a_bare_429_waits_one_to_one_and_a_half_seconds_the_first_time(server: HostileServer) -> None:
    """A 429 without Retry-After: a backoff of its own, at least 1 s; the first one is up to 1.5 s
    (1 s with full jitter, plus half of it), over many calls."""
    from esi_client.clock import ManualClock

    turn = iter(range(10**6))
    status = {"players": 1, "server_version": "1", "start_time": "2026-01-01T00:00:00Z"}
    server.on(
        "/status",
        lambda _request, conn: (
            answer(conn, 429, {"error": "x"}) if next(turn) % 2 == 0 else answer(conn, 200, status)
        ),
    )
    clock = ManualClock()
    client = client_for(server, clock=clock)
    for _ in range(100):
        assert get_status.sync(client=client).players == 1
    assert len(clock.sleeps) == 100
    assert min(clock.sleeps) >= 1.0 and 1.25 < max(clock.sleeps) <= 1.5


def test_a_5xx_retry_past_the_deadline_is_not_begun(server: HostileServer) -> None:
    from esi_client import RetryPolicy
    from esi_client.clock import ManualClock

    server.on("/status", replies(503, {"error": "down"}))
    clock = ManualClock()
    client = client_for(
        server, clock=clock, deadline=2.0, retry=RetryPolicy(max_retries=3, backoff_base=10.0)
    )
    with pytest.raises(DeadlineExceededError, match=r"before a wait of \d+\.\d s \(HTTP 503\)"):
        get_status.sync(client=client)
    assert clock.sleeps == [] and server.count("/status") == 1
