"""The records a call flow exchanges with its drivers (Send, Sleep, Blocking in; Received
back), and what the flow is given: its context (never the client itself) and the cache query."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import httpx2
from attrs import frozen

from esi_client.types import Response

if TYPE_CHECKING:
    from esi_client.clock import Clock
    from esi_client.runtime.cache.memory import CacheEntry, ResponseCache
    from esi_client.runtime.coalescing.flights import Flight
    from esi_client.runtime.limits.local import ErrorGate, RateGate
    from esi_client.seam import TokenProvider, TokenRequest
    from esi_client.stats import ClientStats, Counter


@frozen
class Send:
    request: httpx2.Request
    seconds_left: float | None  # the call's deadline, for this attempt; None: no deadline
    max_body_bytes: int


@frozen
class Sleep:
    seconds: float


@frozen
class Blocking:
    """Blocking I/O outside HTTP (a persistent cache store): the async driver runs it in a
    worker thread so that a slow store does not stall the event loop."""

    call: Callable[[], Any]  # its result is sent back into the flow


@frozen
class Await:
    """Wait (at most `seconds`) for an identical request in flight: its answer fills the cache."""

    flight: Flight[Any]
    seconds: float


@frozen
class Received:
    """What a driver read: the status, the headers and the whole (decompressed) body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    reason_phrase: str


class DeadlinePassed(Exception):
    """Raised by a driver into the flow: the attempt ran past the call's deadline."""


class BodyTooLarge(Exception):
    """Raised by a driver into the flow: the body grew past max_body_bytes while reading."""


@frozen
class RetryPolicy:
    """Idempotent requests are retried on 502/503/504, timeouts and connection errors."""

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 30.0


class CallRecord:
    """What one call did (for its telemetry span): counts by the client's counter names."""

    __slots__ = ("counts", "status")

    def __init__(self) -> None:
        self.counts: dict[str, float] = {}
        self.status: int | None = None

    def add(self, name: str, amount: float) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount


class FlowContext(NamedTuple):  # a tuple: made for every call, it must cost next to nothing
    """What one call's flow needs of its client: limits, cache, policy and bounds (the flow
    never sees the client itself)."""

    clock: Clock
    stats: ClientStats
    retry_policy: RetryPolicy
    error_budget: ErrorGate
    rate_buckets: RateGate
    cache: ResponseCache | None
    max_wait: float
    deadline: float | None
    max_body_bytes: int
    revalidate: bool  # ask ESI even when the cached answer is fresh
    record: CallRecord | None = None  # this call's own counts, when telemetry is on
    tokens: TokenProvider | None = None  # gives an authenticated call its token
    token_request: TokenRequest | None = None  # what this call needs a token for (authenticated only)


def count(context: FlowContext, name: Counter, amount: float = 1) -> None:
    """Count on the client's stats, and on the call's record when there is one."""
    context.stats.add(name, amount)
    if context.record is not None:
        context.record.add(name, amount)


class CacheQuery(NamedTuple):
    """What the client knows before the call: the cache key (None: not cacheable) and who the
    call is for (the rate bucket it is charged to)."""

    key: str | None
    principal: str | None


@frozen
class Lookup:
    """What the cache said before the call: its key, the principal, and a stale entry."""

    key: str | None
    principal: str | None
    stale: CacheEntry | None


Actions = Send | Sleep | Blocking | Await  # what a flow yields to its driver
Flow = Generator[Actions, Any, Response[Any]]
Step = Generator[Actions, Any, None]  # a part of a flow that returns nothing
