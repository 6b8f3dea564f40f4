"""One ESI call as a sans-IO flow: a generator that yields `Send`, `Sleep`, `Blocking` and
`Await` and returns the Response. `wire/drivers.py` drives it, blocking or on an event loop, so
each layer exists once for both (the shape of httpx.Auth.auth_flow).

The layers, in the order a call meets them: the cache (`cache/`), coalescing (`coalescing/`),
the limits (`limits/`), the attempts with their retry decision (`attempt/`), the wire. Each
gives back what it took in `finally`, and the drivers close the flow on every exit, so a
cancelled task, a KeyboardInterrupt or a failing page can never leave a slot taken or a
follower waiting.

Retries are written here rather than with tenacity: a retry's wait must be yielded by the flow
(so the async driver awaits it and tests can use a manual clock), which tenacity's sleep
callback cannot do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

import httpx2

from esi_client._operation import Operation
from esi_client.decoding.decode import Parser
from esi_client.runtime.attempt.attempts import attempts
from esi_client.runtime.cache.lookup import load_stored, look_up
from esi_client.runtime.cache.memory import CacheEntry
from esi_client.runtime.coalescing.flights import Flight
from esi_client.runtime.coalescing.join import join_across_processes, join_in_process
from esi_client.runtime.limits.slots import Slots
from esi_client.runtime.records import Blocking, CacheQuery, Flow, FlowContext, Lookup
from esi_client.types import Response

T = TypeVar("T")


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
    lookup = look_up(context, operation, parse, query)  # a plain call: a hit is the hottest path
    deadline_at = context.clock.now() + context.deadline if context.deadline is not None else None
    if lookup is None:  # nothing fresh in memory: the persistent store may have it
        assert query.key is not None
        stored = yield Blocking(partial(load_stored, context, operation, parse, query.key))
        lookup = look_up(context, operation, parse, query, stored)
    if isinstance(lookup, Response):
        return lookup
    assert lookup is not None  # with the store read, the look-up always decides
    shared = yield from join_in_process(context, operation, parse, lookup, deadline_at)
    if isinstance(shared, Response):
        return shared
    lookup, flight = shared
    if flight is None:  # not cacheable, or revalidating: nothing to lead
        return (yield from _send(context, operation, build, parse, lookup, deadline_at))
    return (yield from _lead(context, operation, build, parse, query, lookup, flight, deadline_at))


def _lead(
    context: FlowContext,
    operation: Operation,
    build: Callable[[], httpx2.Request],
    parse: Parser[T] | None,
    query: CacheQuery,
    lookup: Lookup,
    flight: Flight[CacheEntry],
    deadline_at: float | None,
) -> Flow:
    """The call as the leader of its key: another process's answer, or this call's own; the
    followers get whichever it was when the flight lands."""
    cache, key = context.cache, lookup.key
    assert cache is not None and key is not None  # a flight is only ever led for a cached key
    try:
        answer = yield from join_across_processes(context, operation, parse, query, deadline_at)
        if isinstance(answer, Response):
            flight.entry = cache.get(key)
            return answer
        claimed = answer
        try:
            response = yield from _send(context, operation, build, parse, lookup, deadline_at)
        except Exception:
            if claimed:  # others need not wait it out
                yield Blocking(partial(cache.release_claim, key))
            raise
        answered = cache.get(key)
        if answered is not None and answered is not lookup.stale:  # this call's answer
            flight.entry = answered
        if claimed:
            yield Blocking(partial(cache.release_claim, key))
        return response
    finally:
        cache.flights.land(key, flight)


def _send(
    context: FlowContext,
    operation: Operation,
    build: Callable[[], httpx2.Request],
    parse: Parser[T] | None,
    lookup: Lookup,
    deadline_at: float | None,
) -> Flow:
    """The request, built only now, sent within the limits' slots, which are given back however
    the attempts end."""
    slots = Slots(context, operation, lookup.principal)
    try:
        return (yield from attempts(context, operation, build(), parse, lookup, slots, deadline_at))
    finally:
        slots.release(context.clock.now(), None)
