"""ESI's two budgets, accounted as ESI does: the per-IP error limit and per-group rate limits."""

from __future__ import annotations

import threading
from collections import deque

from esi_client.clock import Clock


# Tokens a request costs by outcome (ESI's rate-limit docs): 2xx 2, 3xx 1, 4xx 5, 5xx 0.
def rate_cost(status: int) -> int:
    if status < 300:
        return 2
    if status < 400:
        return 1
    if status < 500:
        return 5
    return 0


class ErrorLimit:
    """A fixed window (60 s by default) in which at most `budget` error responses are allowed."""

    def __init__(self, clock: Clock, budget: int = 100, window: float = 60.0) -> None:
        self.clock, self.budget, self.window = clock, budget, window
        self._lock = threading.Lock()
        self._started = clock.now()
        self._window_index = 0
        self._errors = 0

    def _roll(self) -> float:
        elapsed = self.clock.now() - self._started
        index = int(elapsed // self.window)
        if index != self._window_index:
            self._window_index, self._errors = index, 0
        return self.window - (elapsed % self.window)

    def snapshot(self) -> tuple[int, int]:
        """(remaining errors, seconds until the window resets)."""
        with self._lock:
            reset = self._roll()
            return max(self.budget - self._errors, 0), max(int(reset + 0.999), 1)

    def exhausted(self) -> bool:
        return self.snapshot()[0] <= 0

    def record(self, status: int) -> None:
        if 200 <= status < 400:
            return
        with self._lock:
            self._roll()
            self._errors += 1


class RateLimits:
    """Floating-window token buckets, one per (group, principal)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._spent: dict[tuple[str, str], deque[tuple[float, int]]] = {}
        self.overrides: dict[str, int] = {}  # group -> max tokens, for tests

    def _used(self, key: tuple[str, str], window: float) -> tuple[int, deque[tuple[float, int]]]:
        spent = self._spent.setdefault(key, deque())
        horizon = self.clock.now() - window
        while spent and spent[0][0] <= horizon:
            spent.popleft()
        return sum(cost for _, cost in spent), spent

    def check(self, group: str, principal: str, max_tokens: int, window: float) -> float | None:
        """None when the request may go ahead, else the seconds to wait (Retry-After)."""
        limit = self.overrides.get(group, max_tokens)
        with self._lock:
            used, spent = self._used((group, principal), window)
            if used < limit:
                return None
            return max(spent[0][0] + window - self.clock.now(), 1.0) if spent else 1.0

    def spent_by_group(self) -> dict[str, int]:
        """Tokens charged per group (all principals) within each bucket's window."""
        with self._lock:
            totals: dict[str, int] = {}
            for (group, _principal), spent in self._spent.items():
                totals[group] = totals.get(group, 0) + sum(cost for _, cost in spent)
            return totals

    def charge(
        self, group: str, principal: str, max_tokens: int, window: float, status: int
    ) -> tuple[int, int, int]:
        """Record the request's cost; returns (limit, remaining, cost)."""
        limit = self.overrides.get(group, max_tokens)
        cost = rate_cost(status)
        with self._lock:
            used, spent = self._used((group, principal), window)
            if cost:
                spent.append((self.clock.now(), cost))
            return limit, max(limit - used - cost, 0), cost
