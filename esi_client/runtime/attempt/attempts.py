"""The attempts of one call: take the limits' slots, send, give them back with the answer's
headers, then act on the pure retry decision (`retry.py`): done, wait and try again, or raise
the error that names the operation and the cause."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TypeVar

import httpx2

from esi_client._operation import Operation
from esi_client.decoding.decode import Parser
from esi_client.errors import BadResponseError, ESIError, ResponseTooLargeError, TransportError
from esi_client.runtime.attempt.authorise import authorise
from esi_client.runtime.attempt.errors import describe_transport_error, response_error
from esi_client.runtime.attempt.retry import (
    Retry,
    Tries,
    after_failure,
    after_rate_limit,
    after_status,
    rate_limited_wait,
)
from esi_client.runtime.cache.keep import conditional, kept, renewed
from esi_client.runtime.deadline import deadline_error, seconds_left, sleep_within
from esi_client.runtime.headers import retry_after_seconds
from esi_client.runtime.limits.slots import Slots
from esi_client.runtime.records import (
    BodyTooLarge,
    DeadlinePassed,
    Flow,
    FlowContext,
    Lookup,
    Received,
    Send,
    Step,
    count,
)

T = TypeVar("T")
logger = logging.getLogger("esi_client")


def attempts(
    context: FlowContext,
    operation: Operation,
    request: httpx2.Request,
    parse: Parser[T] | None,
    lookup: Lookup,
    slots: Slots,
    deadline_at: float | None,
) -> Flow:
    stale = lookup.stale
    conditional(request, stale)
    token = yield from authorise(context, request)
    tries = Tries()
    while True:
        yield from slots.acquire(deadline_at)
        started = time.perf_counter()
        count(context, "requests")
        try:
            received: Received = yield Send(
                request, seconds_left(context, operation, deadline_at), context.max_body_bytes
            )
        except httpx2.TransportError as exc:
            slots.release(context.clock.now(), None)
            retry = after_failure(operation.is_idempotent, type(exc).__name__, tries, context.retry_policy)
            if retry is None:
                reason = describe_transport_error(exc, tries.failures)
                raise TransportError(reason, operation_id=operation.id) from exc
        except (DeadlinePassed, BodyTooLarge, httpx2.DecodingError) as exc:
            raise _wire_error(context, operation, exc) from None
        else:
            now = context.clock.now()
            slots.release(now, received.headers)
            status = received.status_code
            if context.record is not None:
                context.record.status = status
            _log(operation, status, "miss" if stale is None else "revalidate", started)
            if status == 304:
                return (yield from renewed(context, operation, received, parse, lookup, now))
            if 200 <= status < 300:
                return (yield from kept(context, operation, received, parse, lookup.key, now))
            retry = _after_error(
                context, operation, received, lookup.principal, tries, now, token is not None
            )
        tries = retry.tries
        count(context, "retries")
        if retry.reauthorise:
            token = yield from authorise(context, request, refused=token)
        else:
            yield from _wait(context, operation, retry, deadline_at)


def _after_error(
    context: FlowContext,
    operation: Operation,
    received: Received,
    principal: str | None,
    tries: Tries,
    now: float,
    token_sent: bool,
) -> Retry:
    """The retry after an error status, or the error raised. A 429 empties the operation's
    bucket for everyone, raised or not; a 420 closes the error budget until its reset."""
    count(context, "errors")
    error = response_error(operation, received, now)
    status, policy = received.status_code, context.retry_policy
    retry: Retry | None = None
    if status == 429:
        wait = error.retry_after = rate_limited_wait(error.retry_after, tries)
        if operation.rate_limit is not None:
            context.rate_buckets.pause(operation, principal, now, wait)
        retry = after_rate_limit(wait, tries, policy, context.max_wait)
    elif status == 420:
        reset = error.retry_after = _reset_seconds(received.headers)
        context.error_budget.exhausted_until(now, reset)
    else:
        retry = after_status(status, operation.is_idempotent, tries, policy, token_sent)
    if retry is None:
        raise error
    return retry


def _wait(context: FlowContext, operation: Operation, retry: Retry, deadline_at: float | None) -> Step:
    """Wait before the next attempt. A 429 on an operation with a rate bucket is waited out by
    the bucket itself (the next `acquire`), where every caller sharing it waits too."""
    if not retry.rate_limited:
        yield from sleep_within(context, operation, retry.seconds, retry.reason, deadline_at)
    elif operation.rate_limit is None:
        count(context, "waits")
        yield from sleep_within(context, operation, retry.seconds, retry.reason, deadline_at)
        count(context, "wait_seconds", retry.seconds)


def _wire_error(context: FlowContext, operation: Operation, exc: Exception) -> ESIError:
    if isinstance(exc, DeadlinePassed):
        return deadline_error(context, operation, "while waiting for ESI's answer")
    if isinstance(exc, BodyTooLarge):
        return ResponseTooLargeError(
            f"the response body is larger than max_body_bytes ({context.max_body_bytes:,} bytes)",
            operation_id=operation.id,
        )
    return BadResponseError(f"the response body could not be decompressed ({exc})", operation_id=operation.id)


def _reset_seconds(headers: Mapping[str, str]) -> float:
    seconds = retry_after_seconds(headers.get("x-esi-error-limit-reset"), 0.0)
    return 60.0 if seconds is None else seconds


def _log(operation: Operation, status: int, cache: str, started: float) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        elapsed = (time.perf_counter() - started) * 1000
        logger.debug("%s %s cache=%s %.1f ms", operation.id, status, cache, elapsed)
