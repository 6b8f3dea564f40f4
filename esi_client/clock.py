"""Time as the runtime sees it. Tests swap in a ManualClock and never really sleep."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    def sleep(self, seconds: float) -> None: ...

    async def asleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        if seconds > 0:
            import asyncio  # imported on first use: sync-only programs never load it

            await asyncio.sleep(seconds)


class ManualClock:
    """A clock that moves only when told to, or when someone sleeps on it (then at once).

    `sleeps` records every wait, so a test can assert how long the runtime chose to wait.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def reset(self, to: float | None = None) -> None:
        """Back to `to` (default: the real time now), with no sleeps recorded."""
        with self._lock:
            self._now = time.time() if to is None else to
            self.sleeps.clear()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(seconds, 0.0)
        time.sleep(0)  # let other threads run, as a real sleep would

    async def asleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(seconds, 0.0)
        import asyncio

        await asyncio.sleep(0)
