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
    """Floating-window token buckets, one per (group, principal). Windows can be scaled down
    (`window_scale`, or per group in `window_overrides`) so a run of minutes sees them refill;
    the answer's X-Ratelimit-Limit says which window is kept."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._spent: dict[tuple[str, str], deque[tuple[float, int]]] = {}
        self.overrides: dict[str, int] = {}  # group -> max tokens, for tests
        self.window_overrides: dict[str, float] = {}  # group -> window seconds, for tests
        self.window_scale = 1.0
        self._runs: dict[str, _GroupRun] = {}

    def limit(self, group: str, max_tokens: int) -> int:
        return self.overrides.get(group, max_tokens)

    def window(self, group: str, spec_window: float) -> float:
        return self.window_overrides.get(group, spec_window * self.window_scale)

    def _used(self, key: tuple[str, str], window: float) -> tuple[int, deque[tuple[float, int]]]:
        spent = self._spent.setdefault(key, deque())
        horizon = self.clock.now() - window
        while spent and spent[0][0] <= horizon:
            spent.popleft()
        return sum(cost for _, cost in spent), spent

    def check(self, group: str, principal: str, max_tokens: int, spec_window: float) -> float | None:
        """None when the request may go ahead, else the seconds to wait (Retry-After)."""
        limit, window = self.limit(group, max_tokens), self.window(group, spec_window)
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

    def runs(self) -> dict[str, dict[str, float]]:
        """Per group, over the whole run: tokens charged, the span they were charged over, the
        bucket's size and window, and the tokens charged in the whole windows from the first
        charge on (a floating window allows at most `limit` in each: what the run's budget was,
        without the last, partial window)."""
        with self._lock:
            return {group: run.figures() for group, run in self._runs.items()}

    def charge(
        self, group: str, principal: str, max_tokens: int, spec_window: float, status: int
    ) -> tuple[int, float, int, int]:
        """Record the request's cost; returns (limit, window, remaining, cost)."""
        limit, window = self.limit(group, max_tokens), self.window(group, spec_window)
        cost = rate_cost(status)
        with self._lock:
            used, spent = self._used((group, principal), window)
            if cost:
                now = self.clock.now()
                spent.append((now, cost))
                self._runs.setdefault(group, _GroupRun()).add(now, cost, principal, limit, window)
            return limit, window, max(limit - used - cost, 0), cost


class _GroupRun:
    def __init__(self) -> None:
        self.charges: list[tuple[float, int]] = []
        self.limit, self.window = 0, 0.0
        self.principals: set[str] = set()

    def add(self, now: float, cost: int, principal: str, limit: int, window: float) -> None:
        self.charges.append((now, cost))
        self.principals.add(principal)
        self.limit, self.window = limit, window

    def figures(self) -> dict[str, float]:
        first, last = self.charges[0][0], self.charges[-1][0]
        whole = max(int((last - first) // self.window), 1) if self.window else 1
        end = first + whole * self.window
        return {
            "tokens": sum(cost for _, cost in self.charges),
            "span_seconds": round(last - first, 3),
            "limit": self.limit,
            "window_seconds": self.window,
            "principals": len(self.principals),
            "whole_windows": whole,
            "tokens_in_whole_windows": sum(cost for at, cost in self.charges if at < end),
        }


def window_text(seconds: float) -> str:
    """A window as ESI writes it in X-Ratelimit-Limit (`15m`); seconds when not whole minutes."""
    whole = round(seconds)
    if whole >= 60 and whole % 3600 == 0:
        return f"{whole // 3600}h"
    return f"{whole // 60}m" if whole >= 60 and whole % 60 == 0 else f"{max(whole, 1)}s"
