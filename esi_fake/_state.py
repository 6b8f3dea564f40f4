"""Everything a test can set or read on the fake ESI: faults, paging sizes, budgets, counters."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

from esi_client.clock import Clock, SystemClock
from esi_fake._limits import ErrorLimit, RateLimits


@dataclass
class ForcedReply:
    """Answer the next `count` matching requests with `status` (e.g. 420, 429, 503)."""

    status: int
    count: int = 1
    operation_id: str | None = None
    retry_after: float | None = None


@dataclass
class Faults:
    server_error_rate: float = 0.0  # share of requests answered 502/503/504
    server_error_statuses: tuple[int, ...] = (502, 503, 504)
    forced: list[ForcedReply] = field(default_factory=list)
    delay_s: float = 0.0  # added to each matching response (real time, not the clock)
    # every request waits this long on arrival, before it is looked at (real time): many are in
    # flight at once, as when ESI is slow, whatever the clients' machine does meanwhile
    arrival_delay_s: float = 0.0
    delay_operations: frozenset[str] | None = None  # None: every operation
    malformed_rate: float = 0.0  # share of 2xx bodies cut short
    malformed_operations: frozenset[str] | None = None
    change_data_after: int | None = None  # one new data generation after the Nth page request
    max_cache_age: int | None = None  # cache ages (Expires) cut to this many seconds, for short runs


@dataclass
class Stats:
    requests: int = 0
    not_modified: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)
    # GETs sent while an identical one (same route, query and caller) was in flight or fresh
    duplicates: int = 0
    duplicates_by_operation: Counter[str] = field(default_factory=Counter)
    duplicates_by_reason: Counter[str] = field(default_factory=Counter)  # in flight | fresh
    duplicate_samples: list[str] = field(default_factory=list)  # the last 20: route and why
    access_tokens: dict[str, set[str]] = field(default_factory=dict)  # character -> jtis used
    refreshed_tokens: dict[str, set[str]] = field(default_factory=dict)  # of those, a refresh's

    def count(self, operation_id: str) -> int:
        return self.by_operation[operation_id]


class FakeState:
    """The mutable state behind one fake ESI server. Thread-safe; `reset()` between tests."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 1,
        error_budget: int = 100,
        error_window: float = 60.0,
        market_pages: int = 5,
        market_page_size: int = 1000,
        page_count: int = 3,
        page_size: int = 5,
        cursor_records: int = 25,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.seed = seed
        self._defaults = (error_budget, error_window, market_pages, market_page_size, page_count, page_size)
        self.cursor_records = cursor_records
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        error_budget, error_window, market_pages, market_page_size, page_count, page_size = self._defaults
        with self._lock:
            self.faults = Faults()
            self.stats = Stats()
            self.random = random.Random(self.seed)
            self.error_limit = ErrorLimit(self.clock, error_budget, error_window)
            self.rate_limits = RateLimits(self.clock)
            self.market_pages = market_pages
            self.market_page_size = market_page_size
            self.page_count = page_count
            self.page_size = page_size
            self.generation = 0
            self.generation_time = self.clock.now()
            self._page_requests = 0
            self._in_flight: dict[str, int] = {}
            self._fresh_until: dict[str, float] = {}

    # -- decisions made per request, under the lock ------------------------------------

    def chance(self, share: float) -> bool:
        if share <= 0:
            return False
        with self._lock:
            return self.random.random() < share

    def pick(self, choices: tuple[int, ...]) -> int:
        with self._lock:
            return self.random.choice(choices)

    def take_forced(self, operation_id: str) -> ForcedReply | None:
        with self._lock:
            for forced in self.faults.forced:
                if forced.count > 0 and forced.operation_id in (None, operation_id):
                    forced.count -= 1
                    return forced
            return None

    def page_served(self) -> None:
        """Count a page request; change the data once when the fault says so."""
        after = self.faults.change_data_after
        with self._lock:
            self._page_requests += 1
            if after and self._page_requests == after:
                self._next_generation()

    def change_data(self) -> None:
        """A new generation of the data, as ESI's data changes between cache periods: paged
        answers are made anew; cursor records move some of theirs to a newer `last_modified`."""
        with self._lock:
            self._next_generation()

    def _next_generation(self) -> None:
        self.generation += 1
        self.generation_time = self.clock.now() + self.generation  # a distinct Last-Modified

    def begin(self, key: str, operation_id: str, conditional: bool = False) -> None:
        """A GET arrives: a duplicate if an identical one is in flight or still fresh."""
        with self._lock:
            in_flight = key in self._in_flight
            if in_flight or self.clock.now() < self._fresh_until.get(key, 0.0):
                self.stats.duplicates += 1
                self.stats.duplicates_by_operation[operation_id] += 1
                self.stats.duplicates_by_reason["in flight" if in_flight else "fresh"] += 1
                left = self._fresh_until.get(key, 0.0) - self.clock.now()
                sample = (
                    f"{key.split('|', 1)[-1]} ({'in flight' if in_flight else f'fresh {left:.2f} s more'})"
                )
                self.stats.duplicate_samples = [*self.stats.duplicate_samples[-19:], sample]
            self._in_flight[key] = self._in_flight.get(key, 0) + 1

    def end(self, key: str, fresh_until: float | None) -> None:
        with self._lock:
            left = self._in_flight.get(key, 1) - 1
            if left:
                self._in_flight[key] = left
            else:
                self._in_flight.pop(key, None)
            if fresh_until is not None:
                self._fresh_until[key] = fresh_until

    def cache_age(self, declared: int | None) -> int | None:
        """The route's cache age, cut to `max_cache_age` when a test asks for short ones."""
        cap = self.faults.max_cache_age
        return declared if declared is None or cap is None else min(declared, cap)

    def used_token(self, character: str, jti: str, by_refresh: bool) -> None:
        with self._lock:
            self.stats.access_tokens.setdefault(character, set()).add(jti)
            if by_refresh:
                self.stats.refreshed_tokens.setdefault(character, set()).add(jti)

    def enter(self) -> None:
        with self._lock:
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.stats.in_flight -= 1

    def record(self, operation_id: str, status: int) -> None:
        with self._lock:
            self.stats.requests += 1
            self.stats.by_status[status] += 1
            self.stats.by_operation[operation_id] += 1
            if status == 304:
                self.stats.not_modified += 1
        self.error_limit.record(status)
