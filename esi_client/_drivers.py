"""Drive a call flow with real I/O: blocking (threads may share it) or on an event loop."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import httpx2

from esi_client._flow import Blocking, Flow, Sleep
from esi_client.clock import Clock
from esi_client.types import Response

if TYPE_CHECKING:
    import asyncio


def run_sync(
    flow: Flow,
    http: httpx2.Client,
    slots: threading.BoundedSemaphore,
    clock: Clock,
    auth: httpx2.Auth | None,
) -> Response[Any]:
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            action = flow.send(value) if error is None else flow.throw(error)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        value, error = None, None
        if isinstance(action, Sleep):
            clock.sleep(action.seconds)
            continue
        if isinstance(action, Blocking):
            try:
                action.call()
            except Exception as exc:
                error = exc
            continue
        try:
            with slots:
                value = http.send(action.request, auth=auth or httpx2.USE_CLIENT_DEFAULT)
        except Exception as exc:  # the flow releases its limit slots, then decides
            error = exc


async def run_async(
    flow: Flow,
    http: httpx2.AsyncClient,
    slots: asyncio.Semaphore,
    clock: Clock,
    auth: httpx2.Auth | None,
) -> Response[Any]:
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            action = flow.send(value) if error is None else flow.throw(error)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        value, error = None, None
        if isinstance(action, Sleep):
            await clock.asleep(action.seconds)
            continue
        if isinstance(action, Blocking):
            import anyio.to_thread  # here: only persistent cache stores need worker threads

            try:
                await anyio.to_thread.run_sync(action.call)
            except Exception as exc:
                error = exc
            continue
        try:
            async with slots:
                value = await http.send(action.request, auth=auth or httpx2.USE_CLIENT_DEFAULT)
        except Exception as exc:  # the flow releases its limit slots, then decides
            error = exc
