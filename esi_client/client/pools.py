"""A client's connection pools: one sync pool, and one async pool (with its concurrency
semaphore) per event loop, shared by the client and its per-character views."""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

import httpx2
from attrs import define

if TYPE_CHECKING:
    import asyncio


class Pools:
    """Connection pools shared by a client and its per-character views, opened on first use.

    Async pools and their concurrency semaphore belong to one event loop each: one client may
    serve `asyncio.run` twice, or threads each running a loop of their own.
    """

    def __init__(self) -> None:
        self.sync: httpx2.Client | None = None
        self.by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopPool] = (
            weakref.WeakKeyDictionary()
        )
        self.lock = threading.Lock()


@define
class LoopPool:
    http: httpx2.AsyncClient
    slots: asyncio.Semaphore
    threads: int  # worker threads this client's blocking store calls may hold at once
    _limiter: Any = None

    def store_threads(self) -> Any:
        """This client's own share of worker threads (an anyio CapacityLimiter), made on first
        use: calls stuck on a dead store never take the threads other clients' calls need."""
        if self._limiter is None:
            import anyio

            self._limiter = anyio.CapacityLimiter(self.threads)
        return self._limiter
