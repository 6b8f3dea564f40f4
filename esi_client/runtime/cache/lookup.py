"""The cache's look-up before a call: memory first, then the persistent store (another process
may have stored a fresher answer). A fresh entry is the answer, decoded anew for each caller."""

from __future__ import annotations

import logging
from typing import Any

from esi_client._operation import Operation
from esi_client.decoding.decode import Parser, decode_and_parse
from esi_client.errors import ESIError
from esi_client.runtime.cache.memory import CacheEntry, ResponseCache
from esi_client.runtime.records import CacheQuery, FlowContext, Lookup, count
from esi_client.stats import ClientStats
from esi_client.types import Response

logger = logging.getLogger("esi_client")


def look_up(
    context: FlowContext,
    operation: Operation,
    parse: Parser[Any] | None,
    query: CacheQuery,
    stored: tuple[CacheEntry | None, Any] | None = None,
) -> Response[Any] | Lookup | None:
    """A fresh cached answer, or what the attempts need (the stale entry); None when the
    memory has nothing fresh and the persistent store must be read first (another process may
    have stored a fresher answer): then `stored`, and again. A plain function, not a step: a
    cache hit is the hottest path there is."""
    cache = context.cache
    if query.key is None or cache is None:
        return Lookup(None, query.principal, None)
    now = context.clock.now()
    if stored is None:
        entry, parsed = cache.get(query.key), None
        if cache.store is not None and (entry is None or entry.fresh_until <= now) and not context.revalidate:
            return None
    else:
        entry, parsed = stored
        if entry is None:
            entry = cache.get(query.key)  # the store has nothing: a stale entry still revalidates
    if entry is not None and entry.fresh_until > now and not context.revalidate:
        count(context, "cache_hits")
        return _hit(operation, parse, entry, parsed, context.stats)
    return Lookup(query.key, query.principal, entry)


def memory_hit(
    cache: ResponseCache | None,
    now: float,
    revalidate: bool,
    stats: ClientStats,
    operation: Operation,
    parse: Parser[Any] | None,
    key: str | None,
) -> Response[Any] | None:
    """A fresh answer from memory, as look_up gives it, or None. The client asks this before
    it builds a call's flow: a fresh-cache call then costs no flow, context or driver."""
    if key is None or cache is None or revalidate:
        return None
    entry = cache.get(key)
    if entry is None or entry.fresh_until <= now:
        return None
    stats.add("cache_hits")
    return _hit(operation, parse, entry, None, stats)


def _hit(
    operation: Operation, parse: Parser[Any] | None, entry: CacheEntry, parsed: Any, stats: ClientStats
) -> Response[Any]:
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("%s cache=hit", operation.id)
    if parsed is None and parse is not None:
        parsed = decode_and_parse(operation, parse, entry.body, stats)
    return Response(entry.status, entry.headers, parsed, from_cache=True)


def load_stored(
    context: FlowContext, operation: Operation, parse: Parser[Any] | None, key: str
) -> tuple[CacheEntry | None, Any]:
    """The entry from the persistent store, with its parsed body. A stored entry this client
    cannot parse (another version wrote it, say) is a miss, counted in `cache.store_errors`."""
    cache = context.cache
    assert cache is not None
    entry = cache.load_entry(key)
    if entry is None:
        return None, None
    current = cache.get(key)
    if current is not None and current.fresh_until >= entry.fresh_until:
        return current, None  # memory's is as new: nothing to decode
    parsed = None
    if parse is not None:
        try:
            parsed = decode_and_parse(operation, parse, entry.body, context.stats)
        except ESIError as exc:
            cache.count_store_error(key, str(exc))
            return None, None
    cache.remember(key, entry)
    return entry, parsed


def cached_answer(
    context: FlowContext, operation: Operation, parse: Parser[Any] | None, entry: CacheEntry
) -> Response[Any]:
    parsed = None if parse is None else decode_and_parse(operation, parse, entry.body, context.stats)
    return Response(entry.status, entry.headers, parsed, from_cache=True)
