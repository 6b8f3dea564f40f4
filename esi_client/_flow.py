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
from collections.abc import Callable, Generator, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import httpx2
from attrs import frozen

from esi_client._cache import CacheEntry, freshness_lifetime, may_store
from esi_client._decode import Parser, decode_and_parse
from esi_client._headers import retry_after_seconds
from esi_client._operation import Operation
from esi_client.errors import (
    BadResponseError,
    DeadlineExceededError,
    ErrorLimitedError,
    ESIResponseError,
    RateLimitedError,
    ResponseTooLargeError,
    TransportError,
    error_for_status,
)
from esi_client.types import Response

if TYPE_CHECKING:
    from esi_client._client import ESIClient

T = TypeVar("T")
logger = logging.getLogger("esi_client")
RETRY_STATUSES = frozenset({502, 503, 504})
# Headers a 304 may not change in the stored response: they describe the body it did not send.
_BODY_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "content-type"})


@frozen
class Send:
    request: httpx2.Request
    seconds_left: float | None  # the call's deadline, for this attempt; None: no deadline
    max_body_bytes: int


@frozen
class Sleep:
    seconds: float
    reason: str


@frozen
class Blocking:
    """Blocking I/O outside HTTP (a persistent cache store): the async driver runs it in a
    worker thread so that a slow store does not stall the event loop."""

    call: Callable[[], object]


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
class Lookup:
    """What the cache said before the call: its key, the principal, and a stale entry."""

    key: str | None
    principal: str | None
    stale: CacheEntry | None


Flow = Generator[Send | Sleep | Blocking, Any, Response[Any]]
Step = Generator[Send | Sleep | Blocking, Any, None]  # a part of a flow that returns nothing


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter (AWS architecture blog): uniform in [0, base·2^n]."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1))) + base / 2  # noqa: S311 (jitter)


class _Slots:
    """The error-budget and rate-bucket slots one attempt holds; given back exactly once."""

    __slots__ = ("_bucket", "_budget", "client", "operation", "principal")

    def __init__(self, client: ESIClient, operation: Operation, principal: str | None) -> None:
        self.client, self.operation, self.principal = client, operation, principal
        self._budget = self._bucket = False

    def take(self, now: float) -> tuple[float, str]:
        """(0, "") with both slots taken, or (seconds to wait, which limit) with none taken."""
        wait = self.client.error_budget.reserve(now)
        if wait:
            return wait, "error limit"
        self._budget = True
        wait = self.client.rate_buckets.reserve(self.operation, self.principal, now)
        if wait:
            self.release(now, None)
            return wait, "rate limit"
        self._bucket = True
        return 0.0, ""

    def release(self, now: float, headers: Mapping[str, str] | None) -> None:
        if self._budget:
            self._budget = False
            self.client.error_budget.settle(now, headers)
        if self._bucket:
            self._bucket = False
            self.client.rate_buckets.settle(self.operation, self.principal, now, headers)


def call_flow(
    client: ESIClient, operation: Operation, request: httpx2.Request, parse: Parser[T] | None, lookup: Lookup
) -> Flow:
    slots = _Slots(client, operation, lookup.principal)
    try:
        return (yield from _attempts(client, operation, request, parse, lookup, slots))
    finally:
        slots.release(client.clock.now(), None)


def _attempts(
    client: ESIClient,
    operation: Operation,
    request: httpx2.Request,
    parse: Parser[T] | None,
    lookup: Lookup,
    slots: _Slots,
) -> Flow:
    clock, stats, policy = client.clock, client.stats, client.retry_policy
    stale = lookup.stale
    if stale is not None and stale.etag:
        request.headers["If-None-Match"] = stale.etag
    deadline_at = clock.now() + client.deadline if client.deadline is not None else None
    attempt = 0
    while True:
        yield from _acquire(client, operation, slots, deadline_at)
        started = time.perf_counter()
        stats.add("requests")
        try:
            received: Received = yield Send(
                request, _left(client, operation, deadline_at), client.max_body_bytes
            )
        except httpx2.TransportError as exc:
            slots.release(clock.now(), None)
            if operation.is_idempotent and attempt < policy.max_retries:
                attempt += 1
                stats.add("retries")
                pause = backoff(attempt, policy.backoff_base, policy.backoff_cap)
                yield from _sleep(client, operation, pause, type(exc).__name__, deadline_at)
                continue
            raise TransportError(describe_transport_error(exc, attempt), operation_id=operation.id) from exc
        except DeadlinePassed:
            raise _deadline_error(client, operation, "while waiting for ESI's answer") from None
        except BodyTooLarge:
            raise ResponseTooLargeError(
                f"the response body is larger than max_body_bytes ({client.max_body_bytes:,} bytes)",
                operation_id=operation.id,
            ) from None
        except httpx2.DecodingError as exc:
            raise BadResponseError(
                f"the response body could not be decompressed ({exc})", operation_id=operation.id
            ) from None
        now = clock.now()
        slots.release(now, received.headers)
        status = received.status_code
        _log(operation, status, "miss" if stale is None else "revalidate", started)
        if status == 304:
            return (yield from _not_modified(client, operation, received, parse, lookup, now))
        if 200 <= status < 300:
            return (yield from _success(client, operation, received, parse, lookup.key, now))
        stats.add("errors")
        error = response_error(operation, received, now)
        if status == 429:
            wait = (
                error.retry_after
                if error.retry_after is not None
                else max(1.0, backoff(attempt + 1, 1.0, 30))
            )
            error.retry_after = wait
            if attempt >= policy.max_retries or wait > client.max_wait:
                raise error
            attempt += 1
            stats.add("retries")
            if operation.rate_limit is not None:
                client.rate_buckets.pause(operation, lookup.principal, now + wait)  # the group waits
            else:
                stats.add("waits")
                yield from _sleep(client, operation, wait, "HTTP 429", deadline_at)
                stats.add("wait_seconds", wait)
            continue
        if status == 420:
            reset = _reset_seconds(received.headers)
            client.error_budget.exhausted_until(now, reset)
            error.retry_after = reset
            raise error
        if status in RETRY_STATUSES and operation.is_idempotent and attempt < policy.max_retries:
            attempt += 1
            stats.add("retries")
            pause = backoff(attempt, policy.backoff_base, policy.backoff_cap)
            yield from _sleep(client, operation, pause, f"HTTP {status}", deadline_at)
            continue
        raise error


def _acquire(client: ESIClient, operation: Operation, slots: _Slots, deadline_at: float | None) -> Step:
    """Take the limit slots, waiting (counted once, with the time really waited) when needed.

    A single wait longer than max_wait raises the limit's error carrying the retry time; the
    call's deadline bounds them all."""
    clock = client.clock
    waiting_since: float | None = None
    while True:
        now = clock.now()
        wait, limit = slots.take(now)
        if not wait:
            break
        if waiting_since is None:
            waiting_since = now
            client.stats.add("waits")
        if wait > client.max_wait:
            raise _limited_error(client, operation, limit, wait)
        yield from _sleep(client, operation, wait, limit, deadline_at)
    if waiting_since is not None:
        client.stats.add("wait_seconds", clock.now() - waiting_since)


def _sleep(
    client: ESIClient, operation: Operation, seconds: float, reason: str, deadline_at: float | None
) -> Step:
    if deadline_at is not None and client.clock.now() + seconds > deadline_at:
        raise _deadline_error(client, operation, f"before a wait of {seconds:.1f} s ({reason})")
    yield Sleep(seconds, reason)


def _left(client: ESIClient, operation: Operation, deadline_at: float | None) -> float | None:
    if deadline_at is None:
        return None
    left = deadline_at - client.clock.now()
    if left <= 0:
        raise _deadline_error(client, operation, "before the next attempt")
    return left


def _deadline_error(client: ESIClient, operation: Operation, when: str) -> DeadlineExceededError:
    return DeadlineExceededError(
        f"the call's deadline ({client.deadline:g} s for every attempt and wait) passed {when}",
        operation_id=operation.id,
    )


def _limited_error(client: ESIClient, operation: Operation, limit: str, wait: float) -> ESIResponseError:
    kind, status = (ErrorLimitedError, 420) if limit == "error limit" else (RateLimitedError, 429)
    return kind(
        operation_id=operation.id,
        status=status,
        error=f"the {limit} allows the next request in {wait:.0f} s, more than max_wait "
        f"({client.max_wait:g} s); not sent",
        retry_after=wait,
    )


def _decoded(operation: Operation, parse: Parser[T] | None, body: bytes, client: ESIClient) -> Any:
    if parse is None:
        return None
    if not body.strip():
        raise BadResponseError(
            "the response body is empty where the spec promises a value", operation_id=operation.id, path=""
        )
    return decode_and_parse(operation, parse, body, client.stats)


def _not_modified(
    client: ESIClient,
    operation: Operation,
    received: Received,
    parse: Parser[T] | None,
    lookup: Lookup,
    now: float,
) -> Flow:
    stale, cache = lookup.stale, client.cache
    if stale is None or not stale.etag or cache is None or lookup.key is None:
        raise BadResponseError(
            "ESI answered 304 Not Modified to a request that was not conditional (nothing was cached)",
            operation_id=operation.id,
        )
    client.stats.add("not_modified")
    # RFC 9111 §4.3.4: the 304's headers (X-Pages, Last-Modified, ETag, Expires…) replace the stored ones.
    headers = dict(stale.headers)
    headers.update((name, value) for name, value in received.headers.items() if name not in _BODY_HEADERS)
    etag = headers.get("etag") or stale.etag
    entry = CacheEntry(stale.status, headers, stale.body, etag, now + freshness_lifetime(headers, now))
    cache.remember(lookup.key, entry)
    if cache.store is not None:
        yield Blocking(partial(cache.persist, lookup.key, entry))
    parsed = _decoded(operation, parse, stale.body, client)
    return Response(stale.status, headers, parsed, from_cache=True)


def _success(
    client: ESIClient,
    operation: Operation,
    received: Received,
    parse: Parser[T] | None,
    cache_key: str | None,
    now: float,
) -> Flow:
    parsed = _decoded(operation, parse, received.content, client)
    headers = received.headers
    cache = client.cache
    if cache_key is not None and cache is not None and may_store(headers):
        lifetime = freshness_lifetime(headers, now)
        etag = headers.get("etag")
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


_TRANSPORT_TEXT = {
    "ReadTimeout": "ESI sent no data within the read timeout",
    "ConnectTimeout": "no connection to ESI within the connect timeout",
    "WriteTimeout": "the request could not be sent within the write timeout",
    "PoolTimeout": "no free connection within the pool timeout",
    "ConnectError": "could not connect to ESI",
    "RemoteProtocolError": "ESI closed the connection or broke the HTTP protocol",
    "ReadError": "the connection failed while reading the answer",
}


def describe_transport_error(exc: Exception, retries: int) -> str:
    """One sentence for a network failure, never empty (httpx's async timeouts have no text)."""
    name = type(exc).__name__
    detail = str(exc).strip()
    text = _TRANSPORT_TEXT.get(name, "the request failed")
    retried = f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
    return f"{text}{retried} ({name}{': ' + detail if detail else ''})"


def response_error(operation: Operation, received: Received, now: float) -> ESIResponseError:
    """The typed exception for an error response, with ESI's own error text when it sent one."""
    headers = received.headers
    return error_for_status(received.status_code)(
        operation_id=operation.id,
        status=received.status_code,
        error=_error_text(received),
        request_id=headers.get("x-esi-request-id") or headers.get("x-request-id"),
        retry_after=retry_after_seconds(headers.get("retry-after"), now),
    )


def _error_text(received: Received) -> str:
    content = received.content
    try:
        import orjson

        body = orjson.loads(content)
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            return str(body["error"])[:500]
    except ValueError:
        pass
    kind = received.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    text = content.decode("utf-8", "replace").strip()
    if not text:
        return received.reason_phrase or "no error text"
    if kind == "text/html" or text.startswith("<"):
        return f"{received.reason_phrase or 'error'} (a non-JSON error page: {kind}, {len(content):,} bytes)"
    first_line = text.splitlines()[0]
    return first_line[:200] + ("…" if len(first_line) > 200 or "\n" in text else "")
