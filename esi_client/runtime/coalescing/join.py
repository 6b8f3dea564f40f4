"""Coalescing: an identical request already in flight is waited for, not sent again; in this
process (a Flight its leader lands, whatever happens) or in another one sharing a Redis cache
(a short claim marker), so that one answer serves them all."""

from __future__ import annotations

import logging
from collections.abc import Generator
from functools import partial
from typing import Any

from esi_client._operation import Operation
from esi_client.decoding.decode import Parser
from esi_client.runtime.cache.lookup import cached_answer, load_stored, look_up
from esi_client.runtime.cache.memory import CacheEntry
from esi_client.runtime.coalescing.flights import Flight
from esi_client.runtime.deadline import deadline_error
from esi_client.runtime.records import Actions, Await, Blocking, CacheQuery, FlowContext, Lookup, Sleep, count
from esi_client.types import Response

logger = logging.getLogger("esi_client")
COALESCE_TURNS = 3  # a follower whose leader failed may wait for the next one, this many times
COALESCE_WAIT_SECONDS = 60.0  # without a deadline, a follower waits for its leader this long
CLAIM_SECONDS = 10.0  # another process's claim on a key lasts this long, unless released
OTHER_PROCESS_WAIT_SECONDS = 10.0  # how long to wait for another process's answer, at most
POLL_SECONDS = 0.05


def join_in_process(
    context: FlowContext,
    operation: Operation,
    parse: Parser[Any] | None,
    lookup: Lookup,
    deadline_at: float | None,
) -> Generator[Actions, Any, Response[Any] | tuple[Lookup, Flight[CacheEntry] | None]]:
    """The leader's answer when an identical request is in flight here; else (the look-up,
    this call's flight when it leads: it must be landed, whatever happens). A follower waits
    within its own deadline, however many leaders fail before it."""
    key, cache = lookup.key, context.cache
    if key is None or cache is None or context.revalidate:
        return lookup, None
    for _turn in range(COALESCE_TURNS):
        flight, leading = cache.flights.join(key)
        if leading:
            return lookup, flight
        wait = COALESCE_WAIT_SECONDS
        if deadline_at is not None:
            wait = deadline_at - context.clock.now()
            if wait <= 0:
                raise deadline_error(context, operation, "while an identical request was in flight")
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s waiting for an identical request in flight", operation.id)
        yield Await(flight, wait)
        if flight.entry is not None:  # the leader's answer, decoded anew for this caller
            count(context, "coalesced")
            return cached_answer(context, operation, parse, flight.entry)
        lookup = Lookup(key, lookup.principal, cache.get(key))  # it failed: go on, or lead
    return lookup, None


def join_across_processes(
    context: FlowContext,
    operation: Operation,
    parse: Parser[Any] | None,
    query: CacheQuery,
    deadline_at: float | None,
) -> Generator[Actions, Any, Response[Any] | bool]:
    """With a store shared by processes (Redis): claim the key (True: this process asks ESI and
    releases the claim when done), or wait, bounded, for the process that holds the claim: its
    stored answer, or the claim itself once it lets go without one (one process at a time)."""
    cache, key = context.cache, query.key
    if cache is None or key is None or not cache.shares_claims:
        return False
    give_up = context.clock.now() + OTHER_PROCESS_WAIT_SECONDS
    if deadline_at is not None:  # leave the call's own request time to run
        give_up = min(give_up, deadline_at - (deadline_at - context.clock.now()) / 2)
    waited = False
    while True:
        claimed = yield Blocking(partial(cache.claim, key, CLAIM_SECONDS))
        # Look (again) after claiming: another process may have stored its answer and let go
        # of its claim since this call's look-up.
        stored = yield Blocking(partial(load_stored, context, operation, parse, key))
        found = look_up(context, operation, parse, query, stored)
        if isinstance(found, Response):
            if claimed:
                yield Blocking(partial(cache.release_claim, key))
            count(context, "coalesced")
            return found
        if claimed:
            return True
        if context.clock.now() >= give_up:
            return False  # the claim's holder is too slow: go without it (bounded)
        if not waited and logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s waiting for another process's identical request", operation.id)
        waited = True
        yield Sleep(POLL_SECONDS)  # another process is fetching it
