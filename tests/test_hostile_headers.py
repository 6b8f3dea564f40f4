"""Every header ESI sends, read defensively: a bad value is a BadResponseError naming the header
or is ignored, never an untyped exception, and never a state that outlives the answer."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from esi_client import BadResponseError, ESIError, NotFoundError, ServerError
from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.status import get_status
from esi_client.paging import all_pages
from tests.support.hostile_server import HostileServer, RawRequest, answer, client_for

STATUS = {"players": 1, "server_version": "1", "start_time": "2026-01-01T00:00:00Z"}
HUGE = "9" * 400
# The values a hostile or broken server may put in any numeric header.
BAD_NUMBERS = ["²", "١٢", HUGE, "-5", "0", "", " ", "1e400", "nan", "inf", "12abc", "x" * 10_000]


class _Scripted:
    """A status route that answers the headers given for its first request, then clean ones."""

    def __init__(self, headers: dict[str, str], status: int = 200) -> None:
        self.headers, self.status, self.seen = headers, status, 0

    def __call__(self, _request: RawRequest, conn: socket.socket) -> None:
        self.seen += 1
        if self.seen == 1:
            answer(conn, self.status, STATUS if self.status == 200 else {"error": "x"}, self.headers)
        else:
            answer(
                conn,
                200,
                STATUS,
                {"X-Ratelimit-Remaining": "500", "X-Ratelimit-Used": "2", "X-Ratelimit-Limit": "600/15m"},
            )


HEADERS = [
    "X-Ratelimit-Limit",
    "X-Ratelimit-Remaining",
    "X-Ratelimit-Used",
    "X-ESI-Error-Limit-Remain",
    "X-ESI-Error-Limit-Reset",
    "Retry-After",
    "Expires",
    "ETag",
    "Last-Modified",
    "Cache-Control",
]


def _value(header: str, bad: str) -> str:
    if header == "X-Ratelimit-Limit":
        return f"{bad}/15m" if len(bad) < 500 else bad
    if header == "Cache-Control":
        return f"max-age={bad}"
    return bad


@pytest.mark.parametrize("header", HEADERS)
def test_a_bad_header_value_never_outlives_its_answer(server: HostileServer, header: str) -> None:
    """Each bad value, alone, then a clean call: the clean call works (nothing stuck)."""
    client = client_for(server)
    for bad in [*BAD_NUMBERS, "15m/600", f"600/{HUGE}m", "600/0m", "600/-1m", "0/15m"]:
        if bad == "0" and header == "X-Ratelimit-Remaining":
            continue  # a true statement (no tokens left): the group rightly waits its window
        route = _Scripted({header: _value(header, bad)})
        server.on("/status", route)
        client.cache.clear()
        try:
            first = get_status.sync(client=client)
            assert first.players == 1
        except ESIError:
            pass  # a typed refusal is fine; an untyped one fails the test
        client.cache.clear()
        assert get_status.sync(client=client).players == 1, (header, bad[:20])
        assert route.seen == 2


@pytest.mark.parametrize("bad", [HUGE, f"{HUGE}/15m", f"600/{HUGE}m", "²/15m", "600/²m"])
def test_a_huge_rate_limit_never_stops_the_group(server: HostileServer, bad: str) -> None:
    """One 400-digit X-Ratelimit-Limit used to make every later call of the group raise
    OverflowError for the client's lifetime, sending nothing."""
    server.on("/status", _Scripted({"X-Ratelimit-Limit": bad, "X-Ratelimit-Remaining": "5"}))
    client = client_for(server, cache=False)
    assert get_status.sync(client=client).players == 1
    for _ in range(3):
        assert get_status.sync(client=client).players == 1
    assert server.count("/status") == 4


@pytest.mark.parametrize("pages", ["²", "١٢", HUGE, "-1", "", "1e3"])
def test_a_bad_page_count_names_x_pages(server: HostileServer, pages: str) -> None:
    def handle(_request: RawRequest, conn: socket.socket) -> None:
        answer(conn, 200, [], {"X-Pages": pages})

    server.on("/markets/10000002/orders", handle)
    with pytest.raises(BadResponseError, match="X-Pages"):
        all_pages(get_markets_region_id_orders.sync_detailed, 10000002, client=client_for(server))


def test_an_absurd_etag_is_never_sent_back(server: HostileServer) -> None:
    served: list[RawRequest] = []

    def handle(request: RawRequest, conn: socket.socket) -> None:
        served.append(request)
        answer(conn, 200, STATUS, {"ETag": '"' + "e" * 100_000 + '"', "Cache-Control": "max-age=0"})

    server.on("/status", handle)
    client = client_for(server)
    for _ in range(3):
        assert get_status.sync(client=client).players == 1
    assert len(served) == 3 and all("if-none-match" not in request.headers for request in served)


@pytest.mark.parametrize(("status", "error"), [(404, NotFoundError), (503, ServerError)])
@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip"])
def test_an_undecodable_error_answer_keeps_its_status(
    server: HostileServer, status: int, error: type[Exception], encoding: str
) -> None:
    """An unknown Content-Encoding (or a broken gzip) on an error answer loses only its text."""

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        answer(conn, status, b"\x00\x01garbage", {"Content-Encoding": encoding})

    server.on("/status", handle)
    with pytest.raises(error) as raised:
        get_status.sync(client=client_for(server, retry=_fast_retries()))
    assert raised.value.status == status  # type: ignore[attr-defined]
    assert "could not be decoded" in str(raised.value)
    assert server.count("/status") == (4 if status == 503 else 1)  # a 503 is still retried


def test_an_undecodable_success_is_a_bad_response(server: HostileServer) -> None:
    def handle(_request: RawRequest, conn: socket.socket) -> None:
        answer(conn, 200, b"\x00garbage", {"Content-Encoding": "br"})

    server.on("/status", handle)
    with pytest.raises(BadResponseError, match="decompress"):
        get_status.sync(client=client_for(server))


def _fast_retries() -> Any:
    from esi_client import RetryPolicy

    return RetryPolicy(max_retries=3, backoff_base=0.01, backoff_cap=0.02)
