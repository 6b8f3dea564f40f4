"""What the cache keeps of an answer: a success, when fresh or revalidatable; and the stored
copy a 304 renewed, with the 304's headers (RFC 9111 §4.3.4). Each is decoded for its caller."""

from __future__ import annotations

from functools import partial
from typing import Any, TypeVar

import httpx2

from esi_client._operation import Operation
from esi_client.decoding.decode import Parser, decode_and_parse
from esi_client.errors import BadResponseError
from esi_client.runtime.cache.memory import CacheEntry, freshness_lifetime, may_store
from esi_client.runtime.headers import usable_etag
from esi_client.runtime.records import Blocking, Flow, FlowContext, Lookup, Received, count
from esi_client.types import Response

T = TypeVar("T")
# Headers a 304 may not change in the stored response: they describe the body it did not send.
_BODY_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "content-type"})


def conditional(request: httpx2.Request, stale: CacheEntry | None) -> None:
    """A stale copy with an ETag makes the request conditional: a 304 renews the copy."""
    if stale is not None and stale.etag:
        request.headers["If-None-Match"] = stale.etag


def decoded(operation: Operation, parse: Parser[T] | None, body: bytes, context: FlowContext) -> Any:
    if parse is None:
        return None
    if not body.strip():
        raise BadResponseError(
            "the response body is empty where the spec promises a value", operation_id=operation.id, path=""
        )
    return decode_and_parse(operation, parse, body, context.stats)


def renewed(
    context: FlowContext,
    operation: Operation,
    received: Received,
    parse: Parser[T] | None,
    lookup: Lookup,
    now: float,
) -> Flow:
    """A 304: the stale copy, fresh again under the 304's headers."""
    stale, cache = lookup.stale, context.cache
    if stale is None or not stale.etag or cache is None or lookup.key is None:
        raise BadResponseError(
            "ESI answered 304 Not Modified to a request that was not conditional (nothing was cached)",
            operation_id=operation.id,
        )
    count(context, "not_modified")
    # RFC 9111 §4.3.4: the 304's headers (X-Pages, Last-Modified, ETag, Expires…) replace the stored ones.
    headers = dict(stale.headers)
    headers.update((name, value) for name, value in received.headers.items() if name not in _BODY_HEADERS)
    etag = usable_etag(headers.get("etag")) or stale.etag
    entry = CacheEntry(stale.status, headers, stale.body, etag, now + freshness_lifetime(headers, now))
    cache.remember(lookup.key, entry)
    if cache.store is not None:
        yield Blocking(partial(cache.persist, lookup.key, entry))
    parsed = decoded(operation, parse, stale.body, context)
    return Response(stale.status, headers, parsed, from_cache=True)


def kept(
    context: FlowContext,
    operation: Operation,
    received: Received,
    parse: Parser[T] | None,
    cache_key: str | None,
    now: float,
) -> Flow:
    """A success: decoded, and kept when it is fresh for a while or can be revalidated."""
    parsed = decoded(operation, parse, received.content, context)
    headers = received.headers
    cache = context.cache
    if cache_key is not None and cache is not None and may_store(headers):
        lifetime = freshness_lifetime(headers, now)
        etag = usable_etag(headers.get("etag"))
        if lifetime > 0 or etag:
            entry = CacheEntry(received.status_code, dict(headers), received.content, etag, now + lifetime)
            cache.remember(cache_key, entry)
            if cache.store is not None:
                yield Blocking(partial(cache.persist, cache_key, entry))
    return Response(received.status_code, headers, parsed)
