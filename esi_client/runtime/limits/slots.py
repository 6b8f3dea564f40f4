"""The slots one attempt holds in ESI's limits: a place in the error budget and a token of its
operation's rate bucket, taken together (waiting when the limits say so) and given back exactly
once, with the answer's headers, whatever ends the attempt."""

from __future__ import annotations

from collections.abc import Mapping

from esi_client._operation import Operation
from esi_client.errors import ErrorLimitedError, ESIResponseError, RateLimitedError
from esi_client.runtime.deadline import sleep_within
from esi_client.runtime.records import FlowContext, Step, count


class Slots:
    """The error-budget and rate-bucket slots of one call's attempts; each given back once."""

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

    def acquire(self, deadline_at: float | None) -> Step:
        """Take both slots, waiting (counted once, with the time really waited) when needed.

        A single wait longer than max_wait raises the limit's error carrying the retry time; the
        call's deadline bounds them all."""
        context = self.context
        clock = context.clock
        waiting_since: float | None = None
        while True:
            now = clock.now()
            wait, limit = self.take(now)
            if not wait:
                break
            if waiting_since is None:
                waiting_since = now
                count(context, "waits")
            if wait > context.max_wait:
                raise limited_error(context, self.operation, limit, wait)
            yield from sleep_within(context, self.operation, wait, limit, deadline_at)
        if waiting_since is not None:
            count(context, "wait_seconds", clock.now() - waiting_since)


def limited_error(context: FlowContext, operation: Operation, limit: str, wait: float) -> ESIResponseError:
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
