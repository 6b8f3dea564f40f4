"""The call's deadline, as every layer checks it: the time left, a wait that would outlast it,
and the one error that says which wait or attempt it ran out in."""

from __future__ import annotations

from esi_client._operation import Operation
from esi_client.errors import DeadlineExceededError
from esi_client.runtime.records import FlowContext, Sleep, Step


def deadline_error(context: FlowContext, operation: Operation, when: str) -> DeadlineExceededError:
    return DeadlineExceededError(
        f"the call's deadline ({context.deadline:g} s for every attempt and wait) passed {when}",
        operation_id=operation.id,
    )


def sleep_within(
    context: FlowContext, operation: Operation, seconds: float, reason: str, deadline_at: float | None
) -> Step:
    """Sleep, unless waking would be past the deadline: then raise at once, naming the wait."""
    if deadline_at is not None and context.clock.now() + seconds > deadline_at:
        raise deadline_error(context, operation, f"before a wait of {seconds:.1f} s ({reason})")
    yield Sleep(seconds)


def seconds_left(context: FlowContext, operation: Operation, deadline_at: float | None) -> float | None:
    """What the next attempt may take (None: no deadline); past it, the deadline's error."""
    if deadline_at is None:
        return None
    left = deadline_at - context.clock.now()
    if left <= 0:
        raise deadline_error(context, operation, "before the next attempt")
    return left
