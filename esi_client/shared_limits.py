"""ESI's limits shared by a fleet: every process of one app, on any host, draws on one error
budget and one set of rate buckets kept in Redis.

    ESIClient(..., limits=RedisLimits("redis://redis:6379/0"))

CCP keeps these per application, not per process: the error limit (100 errors a minute, then
420 on every route) per source IP, a rate bucket per (group, application + character) for
authenticated calls and per (group, source IP) for public ones. Four workers that each keep
their own budget in memory each believe they have all of it. Here every reservation is one Lua
script (atomic, timed by the Redis server's clock, so hosts need not agree on the time), and
every slot taken is a lease that expires: a process killed with a slot in hand gives it back
when its lease runs out. If Redis does not answer, calls go on with this process's own limits,
with a WARNING and `client.stats.shared_limit_fallbacks`; they never fail because of it.

`scope` names what shares a source IP (the error limit and public buckets): by default the
host's name; processes behind one public address (a NAT) should share one scope.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from esi_client._operation import Operation
from esi_client.runtime.headers import header_int
from esi_client.runtime.limits import scripts
from esi_client.runtime.limits.local import (
    MAX_RESET_SECONDS,
    POLL_SECONDS,
    ErrorBudget,
    RateBuckets,
    bucket_size,
)

if TYPE_CHECKING:
    from esi_client.stats import ClientStats

logger = logging.getLogger("esi_client")
T = TypeVar("T")
LEASE_SECONDS = 60.0  # a slot not given back in this time (its process died) returns by itself
RETRY_REDIS_SECONDS = 5.0  # after a failure, Redis is tried again this much later


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _header(headers: Mapping[str, str] | None, name: str) -> str:
    """The header's whole number as the scripts take it ("" when unreadable: see header_int)."""
    value = header_int((headers or {}).get(name), 9)
    return "" if value is None else str(value)


class RedisLimits:
    """Where a fleet's limits live; pass it as `ESIClient(limits=...)`."""

    def __init__(
        self,
        url: str | Any = "redis://localhost:6379/0",
        *,
        app: str = "esikit",
        scope: str | None = None,
        prefix: str = "esikit:limits:",
        lease_seconds: float = LEASE_SECONDS,
        timeout: float = 2.0,
        connect_timeout: float = 0.5,
        retry_seconds: float = RETRY_REDIS_SECONDS,
    ) -> None:
        import redis

        # A Redis that cannot be reached is known at once; one that is slow to answer (a busy
        # host) is waited for a while, since falling back un-shares the fleet's limits.
        self._redis = (
            redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=connect_timeout)
            if isinstance(url, str)
            else url
        )
        self.lease_seconds, self.retry_seconds = lease_seconds, retry_seconds
        self.keys = f"{prefix}{app}:"
        self.scope = scope or socket.gethostname()
        self.scripts = {
            name: self._redis.register_script(text)
            for name, text in (
                ("error_reserve", scripts.ERROR_RESERVE),
                ("error_settle", scripts.ERROR_SETTLE),
                ("error_exhausted", scripts.ERROR_EXHAUSTED),
                ("rate_reserve", scripts.RATE_RESERVE),
                ("rate_settle", scripts.RATE_SETTLE),
                ("rate_pause", scripts.RATE_PAUSE),
            )
        }
        self._down_until = 0.0
        self._in_outage = False  # told once when Redis goes away and once when it is back
        self._lock = threading.Lock()
        self.stats: ClientStats | None = None  # the client's, set when it binds these limits

    def bind(
        self, threshold: int, max_concurrency: int, stats: ClientStats
    ) -> tuple[SharedErrorBudget, SharedRateBuckets]:
        """The gates one client uses (each client keeps a local fallback of its own)."""
        self.stats = stats
        return (
            SharedErrorBudget(self, ErrorBudget(threshold, max_concurrency)),
            SharedRateBuckets(self, RateBuckets()),
        )

    def run(self, script: str, keys: list[str], args: list[str | int | float]) -> Any:
        """One of the Lua scripts (raises what Redis raises: `call` decides). Keys that hold
        what these scripts never write (another type, or values they cannot read: another
        program, a hand edit) make Redis refuse the script: they are replaced by a fresh,
        unknown state (which the limits treat cautiously) and the script runs again."""
        import redis

        try:
            return self.scripts[script](keys=keys, args=args)
        except redis.ResponseError as exc:
            found = ", ".join(f"{key} ({_text(self._redis.type(key))})" for key in keys)
            self._redis.delete(*keys)
            logger.warning(
                "shared limits: keys held what esikit does not write (%s; Redis said: %s); "
                "replaced with a fresh state",
                found,
                str(exc)[:200],
            )
            return self.scripts[script](keys=keys, args=args)

    def call(self, work: Callable[[], T], fallback: Callable[[], T]) -> T:
        """Work's result, or fallback's when Redis is down or fails now."""
        import redis

        if time.monotonic() < self._down_until:
            if self.stats is not None:
                self.stats.add("shared_limit_fallbacks")
            return fallback()
        try:
            answer = work()
        except (redis.RedisError, OSError) as exc:
            with self._lock:
                first, self._in_outage = not self._in_outage, True
                self._down_until = time.monotonic() + self.retry_seconds
            if first:
                logger.warning(
                    "shared limits: Redis did not answer (%s); this process keeps its own limits "
                    "and tries Redis again in %.0f s",
                    type(exc).__name__,
                    self.retry_seconds,
                )
            if self.stats is not None:
                self.stats.add("shared_limit_fallbacks")
            return fallback()
        if self._in_outage:
            with self._lock:
                was_down, self._in_outage = self._in_outage, False
            if was_down:
                logger.warning("shared limits: Redis answers again; the limits are shared once more")
        return answer


class RedisLease(str):
    """A slot taken in Redis (the lease's id); any other lease is this process's own. The lease
    of a reserve that says to wait is never settled (nothing was taken)."""

    __slots__ = ()


class SharedErrorBudget:
    """The error limit, per scope (source IP), in Redis; this process's budget when it is down."""

    def __init__(self, limits: RedisLimits, local: ErrorBudget) -> None:
        self.limits, self.local = limits, local
        base = f"{limits.keys}errors:{limits.scope}:"
        self._keys = [base + "state", base + "leases"]

    @property
    def in_flight(self) -> int:
        def count() -> int:
            self.limits._redis.zremrangebyscore(self._keys[1], "-inf", time.time())
            return int(self.limits._redis.zcard(self._keys[1]))

        return self.limits.call(count, lambda: 0) + self.local.in_flight

    def reserve(self, now: float) -> tuple[float, object]:
        lease = uuid.uuid4().hex
        args: list[str | int | float] = [
            lease,
            self.limits.lease_seconds,
            self.local.threshold,
            self.local.unknown_limit,
            POLL_SECONDS,
        ]

        def shared() -> tuple[float, object]:
            return float(self.limits.run("error_reserve", self._keys, args)), RedisLease(lease)

        return self.limits.call(shared, lambda: self.local.reserve(now))

    def settle(self, now: float, headers: Mapping[str, str] | None, lease: object = None) -> None:
        if not isinstance(lease, RedisLease):
            self.local.settle(now, headers, lease)
            return
        args: list[str | int | float] = [
            lease,
            _header(headers, "x-esi-error-limit-remain")
            if _header(headers, "x-esi-error-limit-reset")
            else "",
            _header(headers, "x-esi-error-limit-reset"),
            MAX_RESET_SECONDS,
        ]
        self.limits.call(lambda: self.limits.run("error_settle", self._keys, args), lambda: None)

    def exhausted_until(self, now: float, seconds: float) -> None:
        self.local.exhausted_until(now, seconds)
        wait = min(max(seconds, 0.0), MAX_RESET_SECONDS)
        self.limits.call(lambda: self.limits.run("error_exhausted", self._keys, [wait]), lambda: None)


class SharedRateBuckets:
    """Rate buckets per (group, principal) in Redis, public ones per scope (source IP)."""

    def __init__(self, limits: RedisLimits, local: RateBuckets) -> None:
        self.limits, self.local = limits, local

    def _keys(self, operation: Operation, principal: str | None) -> list[str] | None:
        limit = operation.rate_limit
        if limit is None:
            return None
        who = principal if principal is not None else f"ip:{self.limits.scope}"
        base = f"{self.limits.keys}rate:{limit.group}:{who}:"
        return [base + "state", base + "leases", base + "spent", base + "reserved"]

    def reserve(self, operation: Operation, principal: str | None, now: float) -> tuple[float, object]:
        keys = self._keys(operation, principal)
        if keys is None or operation.rate_limit is None:
            return 0.0, None
        lease = uuid.uuid4().hex
        limit = operation.rate_limit
        args: list[str | int | float] = [
            lease,
            self.limits.lease_seconds,
            limit.max_tokens,
            limit.window_seconds,
            self.local.reserve_share,
            POLL_SECONDS,
        ]

        def shared() -> tuple[float, object]:
            answer = self.limits.run("rate_reserve", keys, args)
            text = answer.decode() if isinstance(answer, bytes) else str(answer)
            wait, _, taken = text.partition(":")  # "0:<lease>" when taken, else the wait
            return float(wait), RedisLease(taken)

        return self.limits.call(shared, lambda: self.local.reserve(operation, principal, now))

    def settle(
        self,
        operation: Operation,
        principal: str | None,
        now: float,
        headers: Mapping[str, str] | None,
        lease: object = None,
    ) -> None:
        keys = self._keys(operation, principal)
        if keys is None or operation.rate_limit is None:
            return
        if not isinstance(lease, RedisLease):
            self.local.settle(operation, principal, now, headers, lease)
            return
        size = bucket_size(headers or {})
        tokens, window = size if size is not None else ("", operation.rate_limit.window_seconds)
        args: list[str | int | float] = [
            lease,
            _header(headers, "x-ratelimit-remaining"),
            _header(headers, "x-ratelimit-used"),
            tokens,
            window,
            self.limits.lease_seconds,
        ]
        self.limits.call(lambda: self.limits.run("rate_settle", keys, args), lambda: None)

    def pause(self, operation: Operation, principal: str | None, now: float, seconds: float) -> None:
        self.local.pause(operation, principal, now, seconds)
        keys = self._keys(operation, principal)
        if keys is not None:
            self.limits.call(
                lambda: self.limits.run("rate_pause", keys[:1], [max(seconds, 0.0)]),
                lambda: None,
            )
