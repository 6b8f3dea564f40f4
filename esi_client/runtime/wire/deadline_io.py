"""The call's deadline on every socket read and write of the blocking connection pool.

httpx's timeouts bound each read, not the exchange: a server that sends the status line and
headers a byte at a time, each within the read timeout, keeps a blocking call alive as long as it
likes (the event loop's driver wraps the whole exchange in `asyncio.timeout` instead). So the
blocking pool's network streams shorten every read and write to what is left of the calling
thread's deadline, and fail at once when nothing is left.

The deadline travels in a context variable set by the driver around `send`; a pooled connection
is used by one thread at a time, so each read sees its own call's deadline. The streams are in
esi_client.runtime.wire.deadline_transport (importing httpcore2 is left to the first request).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("esi_client_deadline", default=None)


@contextmanager
def deadline_in(seconds_left: float | None) -> Iterator[float | None]:
    """Bound the socket I/O of this thread's requests by `seconds_left` (monotonic clock)."""
    deadline = None if seconds_left is None else time.monotonic() + seconds_left
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        _deadline.reset(token)


def bounded(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the call's deadline passed")
    return left if timeout is None else min(timeout, left)
