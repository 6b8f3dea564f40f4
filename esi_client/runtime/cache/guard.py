"""Calls to a persistent cache store, kept from ever costing a call more than a moment.

A store is an optimisation: when it fails or answers slowly (a Redis that takes 1.5 s a command,
a disk that stalls) the call goes on without it. After a failure, or an answer slower than
`slow_seconds`, the store is left alone for `retry_seconds`: a call during an outage costs no
store time at all, and the store is tried again by itself afterwards. The outage is told at
WARNING once when it starts and once when it ends; every failure is counted.

The time an answer took is a clock on the wall: in a busy process it includes the wait for the
interpreter (another thread holding the GIL), which is no fault of the store. So a store that
bounds its own calls (Redis: socket timeouts, which raise) is judged by its failures alone
(`slow_seconds=None`); only a store that cannot time out (SQLite on a stalled disk) is timed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

logger = logging.getLogger("esi_client")
T = TypeVar("T")


class StoreTooSlow(Exception):
    """The store answered, but later than a cache may take."""


class StoreGuard:
    def __init__(self, slow_seconds: float | None = 0.5, retry_seconds: float = 5.0) -> None:
        self.slow_seconds = slow_seconds
        self.retry_seconds = retry_seconds
        self.errors = 0  # store operations that failed or were too slow (logged, never raised)
        self.skipped = 0  # operations not tried because the store was out
        self._down = False
        self._left_alone_until = 0.0  # monotonic
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self._down

    def count_error(self) -> None:
        with self._lock:
            self.errors += 1

    def run(self, action: str, key: str, call: Callable[[], T], otherwise: T) -> T:
        """`call()`'s result, or `otherwise` when the store fails or is being left alone."""
        if self._down and time.monotonic() < self._left_alone_until:
            with self._lock:
                self.skipped += 1
            return otherwise
        started = time.monotonic()
        try:
            result = call()
        except Exception as exc:
            self._failed(action, key, exc)
            return otherwise
        took = time.monotonic() - started
        if self.slow_seconds is not None and took > self.slow_seconds:
            self._failed(action, key, StoreTooSlow(f"answered in {took:.1f} s, over {self.slow_seconds:g} s"))
            return result  # the answer is good; only the next calls are spared the wait
        self._answered()
        return result

    def _failed(self, action: str, key: str, exc: Exception) -> None:
        with self._lock:
            self.errors += 1
            first = not self._down
            self._down = True
            self._left_alone_until = time.monotonic() + self.retry_seconds
        if first:
            logger.warning(
                "cache store failed (%s of %s: %s: %s): calls go on without it, counted in "
                "cache.store_errors, and it is tried again every %g s until it answers",
                action,
                key,
                type(exc).__name__,
                exc,
                self.retry_seconds,
            )
        else:
            logger.debug("cache store %s of %s failed: %s", action, key, type(exc).__name__)

    def _answered(self) -> None:
        if not self._down:
            return
        with self._lock:
            was_down, self._down = self._down, False
            failures = self.errors
        if was_down:
            logger.warning("cache store answers again (%d failed operations in all)", failures)
