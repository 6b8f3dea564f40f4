"""One ESI call as a sans-IO flow: a generator that yields `Send`, `Sleep` and `Blocking` and
returns the Response. `run_sync` and `run_async` drive it, so caching, limits and retries exist
once for both (the shape of httpx.Auth.auth_flow).

Limit slots are taken and given back by one object (`_Slots`) released in `finally`; the drivers
close the flow on every exit, so a cancelled task, a KeyboardInterrupt or a failing page can
never leave a slot taken.

Retries are written here rather than with tenacity: a retry's wait must be yielded by the flow
(so the async driver awaits it and tests can use a manual clock), which tenacity's sleep
callback cannot do.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar

import httpx2

from esi_client._operation import Operation
from esi_client.decoding.decode import Parser, decode_and_parse
from esi_client.errors import (
    BadResponseError,
    ErrorLimitedError,
    ESIResponseError,
    RateLimitedError,
    ResponseTooLargeError,
    TransportError,
)
from esi_client.runtime.attempt.errors import describe_transport_error, response_error
from esi_client.runtime.cache.lookup import (
    deadline_error,
    join_across_processes,
    join_in_process,
    load_stored,
    look_up,
)
from esi_client.runtime.cache.memory import CacheEntry, freshness_lifetime, may_store
from esi_client.runtime.headers import retry_after_seconds, usable_etag
from esi_client.runtime.records import (
    Blocking,
    BodyTooLarge,
    CacheQuery,
    DeadlinePassed,
    Flow,
    FlowContext,
    Lookup,
    Received,
    Send,
    Sleep,
    Step,
    count,
)
from esi_client.types import Response

T = TypeVar("T")
logger = logging.getLogger("esi_client")
RETRY_STATUSES = frozenset({502, 503, 504})
# Headers a 304 may not change in the stored response: they describe the body it did not send.
_BODY_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "content-type"})


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter (AWS architecture blog): uniform in [0, base·2^n]."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1))) + base / 2  # noqa: S311 (jitter)


class _Slots:
    """The error-budget and rate-bucket slots one attempt holds; given back exactly once."""

    __slots__ = ("_bucket", "_budget", "context", "operation", "principal")

    def __init__(self, context: FlowContext, operation: Operation, principal: str | None) -> None:
        self.context, self.operation, self.principal = context, operation, principal
        self._budget: tuple[object] | None = None  # (lease,) while taken
        self._bucket: tuple[object] | None = None

    def take(self, now: float) -> tuple[float, str]:
        """(0, "") with both slots taken, or (seconds to wait, which limit) with none taken."""
        wait, lease = self.context.error_budget.reserve(now)
        if wait:
            return wait, "error limit"
        self._budget = (lease,)
        wait, lease = self.context.rate_buckets.reserve(self.operation, self.principal, now)
        if wait:
            self.release(now, None)
            return wait, "rate limit"
        self._bucket = (lease,)
        return 0.0, ""

    def release(self, now: float, headers: Mapping[str, str] | None) -> None:
        if self._budget is not None:
            (lease,), self._budget = self._budget, None
            self.context.error_budget.settle(now, headers, lease)
        if self._bucket is not None:
            (lease,), self._bucket = self._bucket, None
            self.context.rate_buckets.settle(self.operation, self.principal, now, headers, lease)


def call_flow(
    context: FlowContext,
    operation: Operation,
    build: Callable[[], httpx2.Request],
    parse: Parser[T] | None,
    query: CacheQuery,
) -> Flow:
    """The whole call: the cache (a fresh answer ends it, decoded anew for this caller); an
    identical request in flight here or in another process sharing the cache (its answer is
    awaited); then the request (built only now), its limits, retries and the cache write."""
    lookup = look_up(context, operation, parse, query)
    deadline_at = context.clock.now() + context.deadline if context.deadline is not None else None
    if lookup is None:
        assert query.key is not None
        stored = yield Blocking(partial(load_stored, context, operation, parse, query.key))
        lookup = look_up(context, operation, parse, query, stored)
    if isinstance(lookup, Response):
        return lookup
    assert lookup is not None  # with the store read, the look-up always decides
    shared = yield from join_in_process(context, operation, parse, lookup, deadline_at)
    if isinstance(shared, Response):
        return shared
    lookup, led = shared
    key, cache = lookup.key, context.cache
    try:
        claimed = False
        if led is not None and key is not None and cache is not None:
            answer = yield from join_across_processes(context, operation, parse, query, deadline_at)
            if isinstance(answer, Response):
                led.entry = cache.get(key)
                return answer
            claimed = answer
        slots = _Slots(context, operation, lookup.principal)
        try:
            request = build()
            response = yield from _attempts(context, operation, request, parse, lookup, slots, deadline_at)
        except Exception:
            if claimed and key is not None and cache is not None:  # others need not wait it out
                yield Blocking(partial(cache.release_claim, key))
            raise
        finally:
            slots.release(context.clock.now(), None)
        if led is not None and key is not None and cache is not None:
            answered = cache.get(key)
            if answered is not None and answered is not lookup.stale:  # this call's answer
                led.entry = answered
            if claimed:
                yield Blocking(partial(cache.release_claim, key))
        return response
    finally:
        if led is not None and key is not None and cache is not None:
            cache.flights.land(key, led)


def _attempts(
    context: FlowContext,
    operation: Operation,
    request: httpx2.Request,
    parse: Parser[T] | None,
    lookup: Lookup,
    slots: _Slots,
    deadline_at: float | None,
) -> Flow:
    clock, policy = context.clock, context.retry_policy
    stale = lookup.stale
    if stale is not None and stale.etag:
        request.headers["If-None-Match"] = stale.etag
    attempt = 0  # retries after a failure (5xx, transport): the retry policy's budget
    limited = 0  # retries after a 429's wait: a budget of their own, never spending the above
    while True:
        yield from _acquire(context, operation, slots, deadline_at)
        started = time.perf_counter()
        count(context, "requests")
        try:
            received: Received = yield Send(
                request, _left(context, operation, deadline_at), context.max_body_bytes
            )
        except httpx2.TransportError as exc:
            slots.release(clock.now(), None)
            if operation.is_idempotent and attempt < policy.max_retries:
                attempt += 1
                count(context, "retries")
                pause = backoff(attempt, policy.backoff_base, policy.backoff_cap)
                yield from _sleep(context, operation, pause, type(exc).__name__, deadline_at)
                continue
            raise TransportError(describe_transport_error(exc, attempt), operation_id=operation.id) from exc
        except DeadlinePassed:
            raise deadline_error(context, operation, "while waiting for ESI's answer") from None
        except BodyTooLarge:
            raise ResponseTooLargeError(
                f"the response body is larger than max_body_bytes ({context.max_body_bytes:,} bytes)",
                operation_id=operation.id,
            ) from None
        except httpx2.DecodingError as exc:
            raise BadResponseError(
                f"the response body could not be decompressed ({exc})", operation_id=operation.id
            ) from None
        now = clock.now()
        slots.release(now, received.headers)
        status = received.status_code
        if context.record is not None:
            context.record.status = status
        _log(operation, status, "miss" if stale is None else "revalidate", started)
        if status == 304:
            return (yield from _not_modified(context, operation, received, parse, lookup, now))
        if 200 <= status < 300:
            return (yield from _success(context, operation, received, parse, lookup.key, now))
        count(context, "errors")
        error = response_error(operation, received, now)
        if status == 429:
            wait = (
                error.retry_after
                if error.retry_after is not None
                else max(1.0, backoff(limited + 1, 1.0, 30))
            )
            error.retry_after = wait
            if operation.rate_limit is not None:  # the bucket is empty for everyone, raised or not
                context.rate_buckets.pause(operation, lookup.principal, now, wait)
            if limited >= policy.max_retries or wait > context.max_wait:
                raise error
            limited += 1
            count(context, "retries")
            if operation.rate_limit is None:
                count(context, "waits")
                yield from _sleep(context, operation, wait, "HTTP 429", deadline_at)
                count(context, "wait_seconds", wait)
            continue
        if status == 420:
            reset = _reset_seconds(received.headers)
            context.error_budget.exhausted_until(now, reset)
            error.retry_after = reset
            raise error
        if status in RETRY_STATUSES and operation.is_idempotent and attempt < policy.max_retries:
            attempt += 1
            count(context, "retries")
            pause = backoff(attempt, policy.backoff_base, policy.backoff_cap)
            yield from _sleep(context, operation, pause, f"HTTP {status}", deadline_at)
            continue
        raise error


def _acquire(context: FlowContext, operation: Operation, slots: _Slots, deadline_at: float | None) -> Step:
    """Take the limit slots, waiting (counted once, with the time really waited) when needed.

    A single wait longer than max_wait raises the limit's error carrying the retry time; the
    call's deadline bounds them all."""
    clock = context.clock
    waiting_since: float | None = None
    while True:
        now = clock.now()
        wait, limit = slots.take(now)
        if not wait:
            break
        if waiting_since is None:
            waiting_since = now
            count(context, "waits")
        if wait > context.max_wait:
            raise _limited_error(context, operation, limit, wait)
        yield from _sleep(context, operation, wait, limit, deadline_at)
    if waiting_since is not None:
        count(context, "wait_seconds", clock.now() - waiting_since)


def _sleep(
    context: FlowContext, operation: Operation, seconds: float, reason: str, deadline_at: float | None
) -> Step:
    if deadline_at is not None and context.clock.now() + seconds > deadline_at:
        raise deadline_error(context, operation, f"before a wait of {seconds:.1f} s ({reason})")
    yield Sleep(seconds)


def _left(context: FlowContext, operation: Operation, deadline_at: float | None) -> float | None:
    if deadline_at is None:
        return None
    left = deadline_at - context.clock.now()
    if left <= 0:
        raise deadline_error(context, operation, "before the next attempt")
    return left


def _limited_error(context: FlowContext, operation: Operation, limit: str, wait: float) -> ESIResponseError:
    kind, status = (ErrorLimitedError, 420) if limit == "error limit" else (RateLimitedError, 429)
    shown = f"{wait:.1f}" if wait < 10 else f"{wait:.0f}"
    return kind(
        operation_id=operation.id,
        status=status,
        error=f"the {limit} allows the next request in {shown} s, more than max_wait "
        f"({context.max_wait:g} s)",
        retry_after=wait,
        sent=False,
    )


def _decoded(operation: Operation, parse: Parser[T] | None, body: bytes, context: FlowContext) -> Any:
    if parse is None:
        return None
    if not body.strip():
        raise BadResponseError(
            "the response body is empty where the spec promises a value", operation_id=operation.id, path=""
        )
    return decode_and_parse(operation, parse, body, context.stats)


def _not_modified(
    context: FlowContext,
    operation: Operation,
    received: Received,
    parse: Parser[T] | None,
    lookup: Lookup,
    now: float,
) -> Flow:
    stale, cache = lookup.stale, context.cache
    if stale is None or not stale.etag or cache is None or lookup.key is None:
        raise BadResponseError(
            "ESI answered 304 Not Modified to a request that was not conditional (nothing was cached)",
            operation_id=operation.id,
        )
    count(context, "not_modified")
    # RFC 9111 §4.3.4: the 304's headers (X-Pages, Last-Modified, ETag, Expires…) replace the stored ones.
    headers = dict(stale.headers)
    headers.update((name, value) for name, value in received.headers.items() if name not in _BODY_HEADERS)
    etag = usable_etag(headers.get("etag")) or stale.etag
    entry = CacheEntry(stale.status, headers, stale.body, etag, now + freshness_lifetime(headers, now))
    cache.remember(lookup.key, entry)
    if cache.store is not None:
        yield Blocking(partial(cache.persist, lookup.key, entry))
    parsed = _decoded(operation, parse, stale.body, context)
    return Response(stale.status, headers, parsed, from_cache=True)


def _success(
    context: FlowContext,
    operation: Operation,
    received: Received,
    parse: Parser[T] | None,
    cache_key: str | None,
    now: float,
) -> Flow:
    parsed = _decoded(operation, parse, received.content, context)
    headers = received.headers
    cache = context.cache
    if cache_key is not None and cache is not None and may_store(headers):
        lifetime = freshness_lifetime(headers, now)
        etag = usable_etag(headers.get("etag"))
        if lifetime > 0 or etag:
            entry = CacheEntry(received.status_code, dict(headers), received.content, etag, now + lifetime)
            cache.remember(cache_key, entry)
            if cache.store is not None:
                yield Blocking(partial(cache.persist, cache_key, entry))
    return Response(received.status_code, headers, parsed)


def _reset_seconds(headers: Mapping[str, str]) -> float:
    seconds = retry_after_seconds(headers.get("x-esi-error-limit-reset"), 0.0)
    return 60.0 if seconds is None else seconds


def _log(operation: Operation, status: int, cache: str, started: float) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        elapsed = (time.perf_counter() - started) * 1000
        logger.debug("%s %s cache=%s %.1f ms", operation.id, status, cache, elapsed)
