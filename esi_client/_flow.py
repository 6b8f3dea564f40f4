"""One ESI call as a sans-IO flow: a generator that yields `Send` and `Sleep` and returns the
Response. `run_sync` and `run_async` drive it, so caching, limits and retries exist once for
both (the shape of httpx.Auth.auth_flow).

Retries are written here rather than with tenacity: a retry's wait must be yielded by the flow
(so the async driver awaits it and tests can use a manual clock), which tenacity's sleep
callback cannot do.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Generator
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import httpx2
from attrs import frozen

from esi_client._cache import CacheEntry, freshness_lifetime
from esi_client._decode import Parser, decode_and_parse
from esi_client._operation import Operation
from esi_client.errors import ESIResponseError, TransportError, error_for_status
from esi_client.types import Response

if TYPE_CHECKING:
    from esi_client._client import ESIClient

T = TypeVar("T")
logger = logging.getLogger("esi_client")
RETRY_STATUSES = frozenset({502, 503, 504})


@frozen
class Send:
    request: httpx2.Request


@frozen
class Sleep:
    seconds: float
    reason: str


@frozen
class Blocking:
    """Blocking I/O outside HTTP (a persistent cache store): the async driver runs it in a
    worker thread so that a slow store does not stall the event loop."""

    call: Callable[[], object]


Flow = Generator[Send | Sleep | Blocking, Any, Response[Any]]


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter (AWS architecture blog): uniform in [0, base·2^n]."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1))) + base / 2  # noqa: S311 (jitter)


def call_flow(
    client: ESIClient,
    operation: Operation,
    request: httpx2.Request,
    parse: Parser[T] | None,
    cache_key: str | None,
    principal: str | None,
    stale: CacheEntry | None,
) -> Flow:
    clock, stats, policy = client.clock, client.stats, client.retry_policy
    if stale is not None and stale.etag:
        request.headers["If-None-Match"] = stale.etag
    attempt = 0
    while True:
        wait = client.error_budget.reserve(clock.now())
        if wait:
            stats.add("waits")
            stats.add("wait_seconds", wait)
            yield Sleep(wait, "error limit")
            continue
        wait = client.rate_buckets.reserve(operation, principal, clock.now())
        if wait:
            client.error_budget.settle(clock.now(), None)
            stats.add("waits")
            stats.add("wait_seconds", wait)
            yield Sleep(wait, "rate limit")
            continue
        started = time.perf_counter()
        stats.add("requests")
        try:
            response: httpx2.Response = yield Send(request)
        except httpx2.TransportError as exc:
            client.error_budget.settle(clock.now(), None)
            client.rate_buckets.settle(operation, principal, clock.now(), None)
            if operation.is_idempotent and attempt < policy.max_retries:
                attempt += 1
                stats.add("retries")
                yield Sleep(backoff(attempt, policy.backoff_base, policy.backoff_cap), type(exc).__name__)
                continue
            raise TransportError(f"{type(exc).__name__}: {exc}", operation_id=operation.id) from exc
        except Exception:
            client.error_budget.settle(clock.now(), None)
            client.rate_buckets.settle(operation, principal, clock.now(), None)
            raise
        now = clock.now()
        client.error_budget.settle(now, response.headers)
        client.rate_buckets.settle(operation, principal, now, response.headers)
        status = response.status_code
        _log(operation, status, "miss" if stale is None else "revalidate", started)
        if status == 304 and stale is not None and cache_key is not None and client.cache is not None:
            stats.add("not_modified")
            fresh_until = now + freshness_lifetime(response.headers)
            stale.fresh_until = fresh_until
            if client.cache.store is not None:
                yield Blocking(partial(client.cache.persist_refresh, cache_key, fresh_until))
            return Response(stale.status, stale.headers, stale.parsed, from_cache=True)
        if 200 <= status < 300:
            return (yield from _success(client, operation, response, parse, cache_key, now))
        stats.add("errors")
        error = response_error(operation, response)
        if status == 429 and attempt < policy.max_retries:
            attempt += 1
            retry_after = error.retry_after if error.retry_after is not None else 1.0
            client.rate_buckets.pause(operation, principal, now + retry_after)
            stats.add("retries")
            continue  # the bucket's pause makes the next pass wait
        if status == 420:
            client.error_budget.exhausted_until(now, _reset_seconds(response))
            raise error
        if status in RETRY_STATUSES and operation.is_idempotent and attempt < policy.max_retries:
            attempt += 1
            stats.add("retries")
            yield Sleep(backoff(attempt, policy.backoff_base, policy.backoff_cap), f"HTTP {status}")
            continue
        raise error


def _success(
    client: ESIClient,
    operation: Operation,
    response: httpx2.Response,
    parse: Parser[T] | None,
    cache_key: str | None,
    now: float,
) -> Flow:
    content = response.content
    parsed: Any = None
    if parse is not None and content:
        parsed = decode_and_parse(operation, parse, content, client.stats)
    headers = response.headers
    cache = client.cache
    if cache_key is not None and cache is not None:
        lifetime = freshness_lifetime(headers)
        etag = headers.get("etag")
        if lifetime > 0 or etag:
            entry = CacheEntry(response.status_code, headers, parsed, etag, now + lifetime)
            cache.remember(cache_key, entry)
            if cache.store is not None:
                yield Blocking(partial(cache.persist, cache_key, entry, content))
    return Response(response.status_code, headers, parsed)


def _reset_seconds(response: httpx2.Response) -> float:
    value = response.headers.get("x-esi-error-limit-reset", "60")
    return float(value) if value.isdigit() else 60.0


def _log(operation: Operation, status: int, cache: str, started: float) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        elapsed = (time.perf_counter() - started) * 1000
        logger.debug("%s %s cache=%s %.1f ms", operation.id, status, cache, elapsed)


def response_error(operation: Operation, response: httpx2.Response) -> ESIResponseError:
    """The typed exception for an error response, with ESI's own error text when it sent one."""
    text = response.text[:500]
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            text = body["error"]
    except ValueError:
        pass
    headers = response.headers
    retry_after = headers.get("retry-after", "")
    return error_for_status(response.status_code)(
        operation_id=operation.id,
        status=response.status_code,
        error=text or response.reason_phrase,
        request_id=headers.get("x-esi-request-id") or headers.get("x-request-id"),
        retry_after=float(retry_after) if retry_after.replace(".", "", 1).isdigit() else None,
    )
