"""The retry decision, pure: given what one attempt ended in and what was tried before, retry
after how long, or not at all. No I/O, no clock: the attempt loop applies it.

Two budgets, each `RetryPolicy.max_retries`: failures (a 502/503/504 or a transport error, for
idempotent operations only, after exponential backoff with full jitter) and 429s (after the
wait ESI asked for, which never spends the failures' budget)."""

from __future__ import annotations

import random

from attrs import frozen

from esi_client.runtime.records import RetryPolicy

RETRY_STATUSES = frozenset({502, 503, 504})


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter (AWS architecture blog): uniform in [0, base·2^n]."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1))) + base / 2  # noqa: S311 (jitter)


@frozen
class Tries:
    """Retries spent so far: after failures, after 429s, and whether a 401 was answered with a
    new token already (once per call)."""

    failures: int = 0
    limited: int = 0
    reauthorised: bool = False


@frozen
class Retry:
    """Try again after `seconds` (`reason` names the wait); `tries` counts this retry.
    `rate_limited`: a 429's wait, which the operation's rate bucket holds when it has one;
    `reauthorise`: a 401's, sent again at once with a new token."""

    seconds: float
    reason: str
    tries: Tries
    rate_limited: bool = False
    reauthorise: bool = False


def rate_limited_wait(retry_after: float | None, tries: Tries) -> float:
    """How long a 429 holds: what ESI said, else a backoff of at least a second."""
    return retry_after if retry_after is not None else max(1.0, backoff(tries.limited + 1, 1.0, 30))


def after_failure(idempotent: bool, reason: str, tries: Tries, policy: RetryPolicy) -> Retry | None:
    """A transport error or a 502/503/504: retried, with backoff, while the budget lasts."""
    if not idempotent or tries.failures >= policy.max_retries:
        return None
    failures = tries.failures + 1
    wait = backoff(failures, policy.backoff_base, policy.backoff_cap)
    return Retry(wait, reason, Tries(failures, tries.limited, tries.reauthorised))


def after_rate_limit(wait: float, tries: Tries, policy: RetryPolicy, max_wait: float) -> Retry | None:
    """A 429 that holds for `wait` seconds: waited out, unless longer than max_wait."""
    if tries.limited >= policy.max_retries or wait > max_wait:
        return None
    return Retry(
        wait, "HTTP 429", Tries(tries.failures, tries.limited + 1, tries.reauthorised), rate_limited=True
    )


def after_status(
    status: int, idempotent: bool, tries: Tries, policy: RetryPolicy, token_sent: bool
) -> Retry | None:
    """Any other error status: a 401 to a token the runtime sent is retried once, with a new
    token; of the rest, only ESI's passing failures are retried."""
    if status == 401:
        if not token_sent or tries.reauthorised:
            return None
        return Retry(0.0, "HTTP 401", Tries(tries.failures, tries.limited, True), reauthorise=True)
    if status not in RETRY_STATUSES:
        return None
    return after_failure(idempotent, f"HTTP {status}", tries, policy)
