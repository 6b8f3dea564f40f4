"""Drive a call flow with real I/O: blocking (threads may share it) or on an event loop.

Both close the flow on every exit, whatever ends them (an error, a cancellation, a
KeyboardInterrupt), so the flow's `finally` gives back its limit slots.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx2

from esi_client.clock import Clock
from esi_client.runtime.records import Await, Blocking, DeadlinePassed, Flow, Received, Send, Sleep
from esi_client.runtime.wire.body import BodyReader
from esi_client.runtime.wire.deadline_io import deadline_in
from esi_client.types import Response

if TYPE_CHECKING:
    import asyncio


_DEADLINE_SLACK = 0.05  # a socket timeout set to the time left may fire a hair before it


def _shorten_timeouts(request: httpx2.Request, seconds_left: float | None) -> None:
    """No single read, connect or pool wait may outlast the call's deadline."""
    if seconds_left is None:
        return
    timeouts = dict(request.extensions.get("timeout") or {})
    for name in ("connect", "read", "write", "pool"):
        current = timeouts.get(name)
        timeouts[name] = seconds_left if current is None else min(current, seconds_left)
    request.extensions["timeout"] = timeouts


def _reader(response: httpx2.Response, send: Send) -> BodyReader:
    """The body's reader; a response read already (one built in memory, as a test's
    httpx2.MockTransport returns) holds its content decoded, so nothing is inflated again."""
    encoding = "" if response.is_stream_consumed else response.headers.get("content-encoding", "")
    return BodyReader(encoding, send.max_body_bytes, send.seconds_left)


def _undecodable(response: httpx2.Response, exc: httpx2.DecodingError) -> Received:
    """An error answer whose body cannot be decoded is still that error (a 404 stays a 404, a
    503 is still retried): only its text is lost. A success's body is what the caller wanted."""
    if 200 <= response.status_code < 300:
        raise exc
    reason = f"{response.reason_phrase or 'error'}; its body could not be decoded ({exc})"
    return Received(response.status_code, response.headers, b"", reason)


def _send_sync(
    http: httpx2.Client, send: Send, slots: threading.BoundedSemaphore, auth: httpx2.Auth | None
) -> Received:
    _shorten_timeouts(send.request, send.seconds_left)
    with slots, deadline_in(send.seconds_left) as deadline:
        try:
            response = http.send(send.request, auth=auth or httpx2.USE_CLIENT_DEFAULT, stream=True)
            try:
                reader = _reader(response, send)
                if response.is_stream_consumed:  # built in memory (httpx2.MockTransport): read already
                    reader.feed(response.content)
                else:
                    for raw in response.iter_raw():
                        reader.feed(raw)
                content = reader.finish()
            except httpx2.DecodingError as exc:
                return _undecodable(response, exc)
            finally:
                response.close()
        except httpx2.TimeoutException:
            if deadline is not None and time.monotonic() >= deadline - _DEADLINE_SLACK:
                raise DeadlinePassed from None  # the call's deadline, not one read's timeout
            raise
    return Received(response.status_code, response.headers, content, response.reason_phrase)


def run_sync(
    flow: Flow,
    http: httpx2.Client,
    slots: threading.BoundedSemaphore,
    clock: Clock,
    auth: httpx2.Auth | None,
) -> Response[Any]:
    value: Any = None
    error: Exception | None = None
    try:
        while True:
            try:
                action = flow.send(value) if error is None else flow.throw(error)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            value, error = None, None
            if isinstance(action, Sleep):
                clock.sleep(action.seconds)
            elif isinstance(action, Await):
                action.flight.wait(action.seconds)
            elif isinstance(action, Blocking):
                try:
                    value = action.call()
                except Exception as exc:
                    error = exc
            else:
                try:
                    value = _send_sync(http, action, slots, auth)
                except Exception as exc:  # the flow gives back its slots, then decides
                    error = exc
    finally:
        flow.close()


async def _send_async(
    http: httpx2.AsyncClient, send: Send, slots: asyncio.Semaphore, auth: httpx2.Auth | None
) -> Received:
    import asyncio

    _shorten_timeouts(send.request, send.seconds_left)
    try:
        async with asyncio.timeout(send.seconds_left), slots:
            response = await http.send(send.request, auth=auth or httpx2.USE_CLIENT_DEFAULT, stream=True)
            try:
                reader = _reader(response, send)
                if response.is_stream_consumed:
                    reader.feed(response.content)
                else:
                    async for raw in response.aiter_raw():
                        reader.feed(raw)
                content = reader.finish()
            except httpx2.DecodingError as exc:
                return _undecodable(response, exc)
            finally:
                await response.aclose()
    except TimeoutError:
        raise DeadlinePassed from None
    return Received(response.status_code, response.headers, content, response.reason_phrase)


async def run_async(
    flow: Flow,
    http: httpx2.AsyncClient,
    slots: asyncio.Semaphore,
    clock: Clock,
    auth: httpx2.Auth | None,
    store_threads: Callable[[], Any],
) -> Response[Any]:
    value: Any = None
    error: Exception | None = None
    try:
        while True:
            try:
                action = flow.send(value) if error is None else flow.throw(error)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            value, error = None, None
            if isinstance(action, Sleep):
                await clock.asleep(action.seconds)
            elif isinstance(action, Await):
                await action.flight.wait_async(action.seconds)
            elif isinstance(action, Blocking):
                import anyio.to_thread  # here: only persistent cache stores need worker threads

                try:
                    value = await anyio.to_thread.run_sync(action.call, limiter=store_threads())
                except Exception as exc:
                    error = exc
            else:
                try:
                    value = await _send_async(http, action, slots, auth)
                except Exception as exc:  # the flow gives back its slots, then decides
                    error = exc
    finally:
        flow.close()
