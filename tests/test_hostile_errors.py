"""Every failure is an ESIError with one clear sentence naming the operation and the cause."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from esi_client import (
    BadResponseError,
    ESIResponseError,
    NotFoundError,
    RetryPolicy,
    TransportError,
)
from esi_client.api.status import get_status
from esi_client.clock import ManualClock
from tests.support.hostile_server import HostileServer, client_for, replies, silent

STATUS = {"players": 1, "server_version": "1", "start_time": "2026-01-01T00:00:00Z"}


def test_a_304_to_an_unconditional_request(server: HostileServer) -> None:
    server.on("/status", replies(304, b""))
    with pytest.raises(BadResponseError, match="GetStatus: ESI answered 304 Not Modified to a request that"):
        get_status.sync(client=client_for(server))


def test_an_html_error_page_is_not_pasted_whole(server: HostileServer) -> None:
    page = b"<html><head><title>502</title></head><body>" + b"<p>bad gateway</p>" * 500 + b"</body></html>"
    server.on("/status", replies(404, page, {"Content-Type": "text/html"}))
    with pytest.raises(NotFoundError) as caught:
        get_status.sync(client=client_for(server))
    message = str(caught.value)
    assert "GetStatus: HTTP 404" in message and "non-JSON error page" in message
    assert "<p>" not in message and len(message) < 200


async def test_an_async_read_timeout_says_what_happened(server: HostileServer) -> None:
    server.on("/status", silent(3))
    client = client_for(server, timeout=0.3, retry=RetryPolicy(max_retries=0))
    with pytest.raises(TransportError) as caught:
        await get_status.asyncio(client=client)
    assert str(caught.value) == "GetStatus: ESI sent no data within the read timeout (ReadTimeout)"  # no ": "
    await client.aclose()


def test_waits_are_counted_once_each_with_the_time_waited(server: HostileServer) -> None:
    calls = iter([429, 200])

    def handle(_request: object, conn: Any) -> None:
        from tests.support.hostile_server import answer

        status = next(calls)
        answer(conn, status, STATUS if status == 200 else {"error": "x"}, {"Retry-After": "5"})

    server.on("/status", handle)
    clock = ManualClock()
    client = client_for(server, clock=clock)
    get_status.sync(client=client)
    assert client.stats.waits == 1
    assert client.stats.wait_seconds == pytest.approx(5.0, abs=0.1)


async def test_error_budget_waits_are_not_counted_per_poll(server: HostileServer) -> None:
    def handle(_request: object, conn: Any) -> None:
        import time

        from tests.support.hostile_server import answer

        time.sleep(0.05)
        answer(conn, 404, {"error": "x"}, {"X-ESI-Error-Limit-Remain": "12", "X-ESI-Error-Limit-Reset": "1"})

    server.on("/status", handle)
    client = client_for(server, error_threshold=10, retry=RetryPolicy(max_retries=0), cache=False)

    async def one() -> None:
        with pytest.raises(ESIResponseError):
            await get_status.asyncio(client=client)

    await asyncio.gather(*(one() for _ in range(6)))
    assert client.stats.waits <= 6  # at most one wait per call, however often it looked again
    assert client.stats.wait_seconds < 10
    await client.aclose()


def _raw_answer(status_line: bytes, headers: dict[str, str], body: bytes) -> Any:
    """A handler answering with exactly this status line (its reason phrase too)."""

    def handle(_request: Any, conn: Any) -> None:
        lines = [status_line] + [
            f"{k}: {v}".encode() for k, v in {**headers, "Content-Length": str(len(body))}.items()
        ]
        conn.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)

    return handle


JSON = {"Content-Type": "application/json"}
PAGE = b"<html><body>gone</body></html>"


@pytest.mark.parametrize(
    ("status_line", "headers", "body", "said"),
    [
        (b"HTTP/1.1 404 Not Found", JSON, b'{"error": "' + b"e" * 600 + b'"}', "e" * 500),
        (b"HTTP/1.1 404 Not Found", JSON, b'{"error": 5}', '{"error": 5}'),
        (b"HTTP/1.1 404 Not Found", JSON, b'["error"]', '["error"]'),
        (b"HTTP/1.1 404 Not Found", JSON, b"  ", "Not Found"),
        (b"HTTP/1.1 404 ", JSON, b"", "no error text"),
        (b"HTTP/1.1 404 Gone Away", {"Content-Type": "Text/HTML; charset=utf-8"}, b"oops",
         "Gone Away (a non-JSON error page: text/html, 4 bytes)"),
        (b"HTTP/1.1 404 ", {"Content-Type": "text/plain"}, PAGE,
         f"error (a non-JSON error page: text/plain, {len(PAGE)} bytes)"),
        (b"HTTP/1.1 404 Not Found", {}, b"<x>" * 500,
         "Not Found (a non-JSON error page: no content type, 1,500 bytes)"),
        (b"HTTP/1.1 404 Not Found", {"Content-Type": "text/plain"}, b"d" * 200, "d" * 200),
        (b"HTTP/1.1 404 Not Found", {"Content-Type": "text/plain"}, b"d" * 201, "d" * 200 + "…"),
        (b"HTTP/1.1 404 Not Found", {"Content-Type": "text/plain"}, b"first\nsecond", "first…"),
        (b"HTTP/1.1 404 Not Found", {"Content-Type": "text/plain"}, b"caf\xe9 closed", "caf\ufffd closed"),
    ],
    ids=[
        "json-error-500-chars", "json-error-not-text", "json-not-an-object", "blank-reason",
        "empty-no-reason", "html-by-type", "page-by-first-char", "no-content-type",
        "line-of-200", "line-of-201", "two-lines", "not-utf8",
    ],
)  # fmt: skip
def test_an_error_answer_is_told_in_one_short_line(
    server: HostileServer, status_line: bytes, headers: dict[str, str], body: bytes, said: str
) -> None:
    server.on("/status", _raw_answer(status_line, headers, body))
    with pytest.raises(NotFoundError) as caught:
        get_status.sync(client=client_for(server))
    assert caught.value.error == said


def test_a_300_is_not_a_success_even_with_a_body_that_reads_as_one(server: HostileServer) -> None:
    """Only a 2xx is an answer (ESI sends no 3xx but 304, which needs an ETag sent)."""
    server.on("/status", replies(300, STATUS))
    with pytest.raises(ESIResponseError) as caught:
        get_status.sync(client=client_for(server))
    assert caught.value.status == 300
