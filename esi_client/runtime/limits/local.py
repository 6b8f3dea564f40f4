"""Staying inside ESI's budgets: the per-IP error limit and the per-group rate limits.

Both are gates a request passes before it is sent. `reserve` answers (0, lease) (go: a slot is
taken) or (seconds to wait, None); `settle` gives the lease back and learns from the headers.
These keep the budgets in this process's memory; esi_client.shared_limits keeps them in Redis
for a fleet, behind the same methods.
The error gate counts requests in flight against the remaining budget, so that even if every
one of them failed, the budget would stay above the threshold: the runtime never drives it to
zero, whatever the concurrency. CCP bans apps that keep hitting 420.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Protocol

from attrs import define, field

from esi_client._operation import Operation
from esi_client.runtime.headers import header_int

POLL_SECONDS = 0.005  # how often a waiting request looks again while others are in flight
# ESI's per-IP error budget in a window. While the client does not know what is left (before the
# first answer, after a window resets, from a server that sends no error-limit headers) it lets
# up to its own concurrency of requests go, never more than this budget minus the threshold.
ASSUMED_BUDGET = 100
MAX_RESET_SECONDS = 10 * 86400.0  # a larger X-ESI-Error-Limit-Reset is taken as this (never overflows)
PROBE = "probe"  # the lease of a request sent alone to learn a bucket's state


@define(frozen=True)
class RateLease:
    """What a request took from a bucket: when, and whether it went alone (a probe)."""

    reserved_at: float
    probe: bool = False


def _int(headers: Mapping[str, str], name: str) -> int | None:
    """A limit header's whole number, or None for anything unreadable (see header_int)."""
    return header_int(headers.get(name), 9)


_WINDOW_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def bucket_size(headers: Mapping[str, str]) -> tuple[int, float] | None:
    """(tokens, window seconds) from `X-Ratelimit-Limit: 150/15m`: ESI's word on the bucket,
    which wins over the spec's (limits change between spec dates)."""
    tokens_text, _, window = headers.get("x-ratelimit-limit", "").strip().partition("/")
    unit = _WINDOW_UNITS.get(window[-1:].lower())
    tokens, length = header_int(tokens_text, 9), header_int(window[:-1], 6)
    if tokens is None or tokens < 1 or unit is None or length is None or length < 1:
        return None  # unreadable, or a limit nothing could ever pass: ignored, the spec's stands
    return tokens, length * unit


class ErrorGate(Protocol):
    """The error limit's gate: this process's ErrorBudget, or a fleet's in Redis."""

    @property
    def in_flight(self) -> int: ...

    def reserve(self, now: float) -> tuple[float, object]: ...

    def settle(self, now: float, headers: Mapping[str, str] | None, lease: object = None) -> None: ...

    def exhausted_until(self, now: float, seconds: float) -> None: ...


class RateGate(Protocol):
    """The rate limits' gate: this process's RateBuckets, or a fleet's in Redis."""

    def reserve(self, operation: Operation, principal: str | None, now: float) -> tuple[float, object]: ...

    def settle(
        self,
        operation: Operation,
        principal: str | None,
        now: float,
        headers: Mapping[str, str] | None,
        lease: object = None,
    ) -> None: ...

    def pause(self, operation: Operation, principal: str | None, now: float, seconds: float) -> None: ...


class ErrorBudget:
    """X-ESI-Error-Limit-Remain/Reset, shared by every request of the client."""

    def __init__(self, threshold: int = 10, unknown_concurrency: int = 16) -> None:
        self.threshold = threshold
        self.unknown_limit = max(1, min(unknown_concurrency, ASSUMED_BUDGET - threshold))
        self.remain: int | None = None  # unknown until a response says
        self.reset_at = 0.0
        self.in_flight = 0
        self._lock = threading.Lock()

    def reserve(self, now: float) -> tuple[float, object]:
        with self._lock:
            if self.remain is not None and now >= self.reset_at:
                self.remain = None  # a new window: unknown again until the next answer
            if self.remain is None:
                allowed = self.in_flight < self.unknown_limit
            else:
                allowed = self.remain - self.in_flight > self.threshold
            if allowed:
                self.in_flight += 1
                return 0.0, None
            if (
                self.remain is not None
                and self.remain - self.in_flight <= self.threshold
                and self.in_flight == 0
            ):
                return max(self.reset_at - now, POLL_SECONDS), None
            return POLL_SECONDS, None

    def settle(self, now: float, headers: Mapping[str, str] | None, lease: object = None) -> None:
        with self._lock:
            self.in_flight -= 1
            if headers is None:
                return
            remain = _int(headers, "x-esi-error-limit-remain")
            reset = _int(headers, "x-esi-error-limit-reset")
            if remain is None or reset is None:
                return
            reset_at = now + min(max(reset, 0), MAX_RESET_SECONDS)
            if self.remain is None or reset_at > self.reset_at + 1.5:
                self.remain, self.reset_at = remain, reset_at  # first answer, or a new window
            else:
                self.remain = min(self.remain, remain)  # answers arrive out of order: trust the lowest

    def exhausted_until(self, now: float, seconds: float) -> None:
        """A 420: nothing may be sent until the window resets."""
        with self._lock:
            self.remain, self.reset_at = 0, now + min(max(seconds, 0.0), MAX_RESET_SECONDS)


Spend = tuple[float, int, float]  # (answered at, tokens, reserved at)


class Spends:
    """The tokens a bucket's answers spent, in the order they were answered: each is given back
    a window after its answer, when ESI has surely given it back (ESI counts from the request's
    arrival, between reservation and answer). Every operation costs the same with 6,000 spends
    held (a full market-order bucket) as with none: the earliest reservation is kept at hand."""

    def __init__(self) -> None:
        self._answered: deque[Spend] = deque()
        # The spends that were, when added, reserved no later than any answered after them: the
        # first is the earliest reservation held (a sliding-window minimum).
        self._earliest: deque[Spend] = deque()

    def __bool__(self) -> bool:
        return bool(self._answered)

    def add(self, spend: Spend) -> None:
        self._answered.append(spend)
        while self._earliest and self._earliest[-1][2] > spend[2]:
            self._earliest.pop()
        self._earliest.append(spend)

    def oldest_answer(self) -> float:
        return self._answered[0][0]

    def give_back(self, now: float, window: float) -> int:
        """Tokens whose answer left the floating window by `now`, no longer held."""
        returned = 0
        while self._answered and self._answered[0][0] + window <= now:
            spend = self._answered.popleft()
            if self._earliest[0] is spend:
                self._earliest.popleft()
            returned += spend[1]
        return returned

    def forget_reserved_by(self, cutoff: float) -> None:
        """Drop spends reserved at or before `cutoff` (rare: only those answered a window or
        less after they were reserved are still held)."""
        if self._earliest and self._earliest[0][2] <= cutoff:
            kept = [spend for spend in self._answered if spend[2] > cutoff]
            self._answered, self._earliest = deque(), deque()
            for spend in kept:
                self.add(spend)


@define
class _Bucket:
    limit: int
    window: float
    remaining: int | None = None
    paused_until: float = 0.0
    in_flight: int = 0
    spent: Spends = field(factory=Spends)


class RateBuckets:
    """One floating-window bucket per (rate-limit group, principal), as ESI keeps them."""

    def __init__(self, reserve_share: float = 0.05) -> None:
        self.reserve_share = reserve_share
        self._buckets: dict[tuple[str, str | None], _Bucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, operation: Operation, principal: str | None) -> _Bucket | None:
        limit = operation.rate_limit
        if limit is None:
            return None
        key = (limit.group, principal)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets.setdefault(key, _Bucket(limit.max_tokens, float(limit.window_seconds)))
        return bucket

    def reserve(self, operation: Operation, principal: str | None, now: float) -> tuple[float, object]:
        bucket = self._bucket(operation, principal)
        if bucket is None:
            return 0.0, None
        with self._lock:
            if bucket.paused_until > now:
                return bucket.paused_until - now, None
            returned = bucket.spent.give_back(now, bucket.window)  # left the floating window
            if returned and bucket.remaining is not None:
                bucket.remaining = min(bucket.limit, bucket.remaining + returned)
            keep = max(int(bucket.limit * self.reserve_share), 5)  # room for a 4xx (5 tokens)
            if bucket.remaining is not None and bucket.remaining - 2 * bucket.in_flight <= keep:
                if bucket.in_flight:
                    return POLL_SECONDS, None
                # Slow down before a 429: wait until our oldest spend leaves the window.
                if not bucket.spent:  # spent by someone else: one request finds out (alone)
                    bucket.in_flight += 1
                    return 0.0, RateLease(now, probe=True)
                return max(bucket.spent.oldest_answer() + bucket.window - now, POLL_SECONDS), None
            bucket.in_flight += 1
            return 0.0, RateLease(now)

    def settle(
        self,
        operation: Operation,
        principal: str | None,
        now: float,
        headers: Mapping[str, str] | None,
        lease: object = None,
    ) -> None:
        bucket = self._bucket(operation, principal)
        if bucket is None:
            return
        with self._lock:
            bucket.in_flight -= 1
            if headers is None:
                return
            remaining, used = _int(headers, "x-ratelimit-remaining"), _int(headers, "x-ratelimit-used")
            size = bucket_size(headers)
            if size is not None:
                bucket.limit, bucket.window = size
            if remaining is not None:
                # Answers arrive out of order: only the lowest is believed, except a probe's (it
                # went alone, so its answer is the newest; tokens may have come back).
                probe = isinstance(lease, RateLease) and lease.probe
                if bucket.remaining is None or probe or remaining < bucket.remaining:
                    bucket.remaining = remaining
                    # This count is the bucket's now: tokens it may already count as given back
                    # (reserved a window or more ago) must not be given back a second time.
                    bucket.spent.forget_reserved_by(now - bucket.window)
                if used:
                    reserved_at = lease.reserved_at if isinstance(lease, RateLease) else now
                    bucket.spent.add((now, used, reserved_at))

    def remaining(self, operation: Operation, principal: str | None) -> int | None:
        """The tokens this process believes are left in the bucket (None: unknown)."""
        bucket = self._bucket(operation, principal)
        return None if bucket is None else bucket.remaining

    def pause(self, operation: Operation, principal: str | None, now: float, seconds: float) -> None:
        """A 429: the group waits for Retry-After."""
        bucket = self._bucket(operation, principal)
        if bucket is not None:
            with self._lock:
                bucket.paused_until = max(bucket.paused_until, now + seconds)
                bucket.remaining = None
