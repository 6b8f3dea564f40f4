"""Replies to public GETs kept as sent while fresh: a request asked again while its answer is
fresh is answered from here, before routing, parsing or the runtime. Only answers just received
from ESI are kept, for the lifetime the runtime reckons from their headers (Expires minus Date,
or max-age: never the local clock against ESI's), so never longer than the runtime keeps them.

Only requests that carry no token and name no character are kept; the key holds everything
else that changes ESI's answer (path, query, language, tenant, compatibility date)."""

from __future__ import annotations

import time
from collections import OrderedDict

from attrs import frozen
from starlette.types import Scope

from esi_client._operation import Operation

MAX_ENTRIES = 4096
PERSONAL = (b"authorization", b"x-esi-character")
VARYING = (b"accept-language", b"x-tenant", b"x-compatibility-date")

Key = tuple[bytes, ...]


@frozen
class HotReply:
    operation: Operation
    fresh_until: float  # time.time()
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str | None


def key_of(scope: Scope) -> Key | None:
    """The request's key, or None when it may not be answered from here."""
    if scope["method"] != "GET":
        return None
    varying = [b"", b"", b""]
    for name, value in scope["headers"]:
        if name in PERSONAL:
            return None
        if name in VARYING:
            varying[VARYING.index(name)] = value
    return (scope["path"].encode(), scope["query_string"], *varying)


class HotReplies:
    def __init__(self) -> None:
        self._entries: OrderedDict[Key, HotReply] = OrderedDict()

    def get(self, key: Key) -> HotReply | None:
        found = self._entries.get(key)
        if found is None:
            return None
        if found.fresh_until <= time.time():
            del self._entries[key]
            return None
        return found

    def keep(
        self,
        key: Key,
        operation: Operation,
        headers: dict[str, str],
        reply_headers: list[tuple[bytes, bytes]],
        body: bytes,
        fresh_for: float,
    ) -> None:
        """A 200 fresh for `fresh_for` seconds from now, with the headers it was sent with."""
        if fresh_for <= 0:
            return
        hit = [(name, value) for name, value in reply_headers if name != b"x-esi-proxy-cache"]
        hit.append((b"x-esi-proxy-cache", b"hit"))
        self._entries[key] = HotReply(operation, time.time() + fresh_for, hit, body, headers.get("etag"))
        if len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
