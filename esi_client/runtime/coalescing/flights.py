"""Identical GETs in flight at once share one request: the first (the leader) asks ESI, the
others wait for its answer to fill the cache. Threads and event loops may wait on one flight."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")  # what the leader leaves for the others (the cache's entry)


class Flight(Generic[T]):
    """One request in flight; `finish` wakes every waiter, in any thread or event loop."""

    def __init__(self) -> None:
        self.entry: T | None = None  # the leader's answer, for the others to decode
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def wait(self, seconds: float) -> None:
        self._done.wait(seconds)

    async def wait_async(self, seconds: float) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._done.is_set():
                return
            self._waiters.append((loop, future))
        try:
            await asyncio.wait_for(future, seconds)
        except TimeoutError:
            pass  # the leader is slow: go on alone
        finally:
            with self._lock:
                if (loop, future) in self._waiters:
                    self._waiters.remove((loop, future))

    def finish(self) -> None:
        with self._lock:
            self._done.set()
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_result(None)


class Flights(Generic[T]):
    """The flights of one cache, by cache key."""

    def __init__(self) -> None:
        self._flights: dict[str, Flight[T]] = {}
        self._lock = threading.Lock()

    def join(self, key: str) -> tuple[Flight[T], bool]:
        """(the key's flight, True when this caller leads it: it must `land` it, whatever happens)."""
        with self._lock:
            flight = self._flights.get(key)
            if flight is not None:
                return flight, False
            flight = self._flights[key] = Flight[T]()
            return flight, True

    def land(self, key: str, flight: Flight[T]) -> None:
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
        flight.finish()
