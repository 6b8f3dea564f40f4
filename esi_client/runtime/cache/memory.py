"""Response caching above HTTP: bodies kept in memory (a bounded LRU), optionally persisted.

ESI's caching is plain: `Cache-Control: max-age` (else `Expires`) says how long a response is
fresh, `ETag` lets a stale one be revalidated with `If-None-Match`. The cache keeps the body's
bytes, not the parsed result: every caller gets models of its own, decoded from immutable bytes,
so no caller can change what the next one gets (a copy of a parsed page would cost more than
decoding it again; see the README for the figures).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Protocol

import attrs
from attrs import define, frozen

from esi_client.runtime.cache.guard import StoreGuard
from esi_client.runtime.coalescing.flights import Flights
from esi_client.runtime.headers import cache_directives, http_date

logger = logging.getLogger("esi_client")


@frozen
class StoredResponse:
    """What a persistent store keeps: enough to rebuild the parsed result after a restart."""

    status: int
    headers: dict[str, str]
    body: bytes
    etag: str | None
    fresh_until: float


@define
class CacheEntry:
    """One cached response: decoded anew for every caller."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    etag: str | None
    fresh_until: float


class CacheStore(Protocol):
    """A persistent second level (SQLite, Redis, …): raw responses by key."""

    def load(self, key: str) -> StoredResponse | None: ...

    def save(self, key: str, response: StoredResponse) -> None: ...


class UnusableEntry(ValueError):
    """A store's entry that cannot even be read back (not JSON, a field missing): a miss."""


def unusable(stored: object) -> str:
    """Why a stored entry cannot be used ("" when it can): a store shared with other versions,
    or edited by hand, may hold anything, and one bad entry must not fail every later call."""
    if not isinstance(stored, StoredResponse):
        return f"the store returned a {type(stored).__name__}, not a StoredResponse"
    fields: dict[str, object] = attrs.asdict(stored, recurse=False)
    status, headers, etag = fields["status"], fields["headers"], fields["etag"]
    fresh_until = fields["fresh_until"]
    if type(status) is not int or not 100 <= status <= 599:
        return f"status {status!r} is not an HTTP status"
    if not isinstance(headers, dict) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in headers.items()
    ):
        return "its headers are not text"
    if not isinstance(fields["body"], bytes):
        return "its body is not bytes"
    if etag is not None and not isinstance(etag, str):
        return f"its ETag {etag!r} is not text"
    if type(fresh_until) not in (int, float) or not math.isfinite(fresh_until):  # type: ignore[arg-type]
        return f"its expiry {fresh_until!r} is not a time"
    return ""


def may_store(headers: Mapping[str, str]) -> bool:
    """False for `Cache-Control: no-store`: such a response is never kept, in memory or on disk."""
    return "no-store" not in cache_directives(headers)


MAX_DELTA_SECONDS = 2**31  # RFC 9111 §1.2.2: a longer max-age is taken as this (68 years)


def _delta_seconds(value: str | None) -> int | None:
    """A max-age: ASCII digits (RFC 9111 §1.2.2), however many; None for anything else."""
    text = (value or "").strip()
    if not text or not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0") or "0"
    return MAX_DELTA_SECONDS if len(digits) > 10 else min(int(digits), MAX_DELTA_SECONDS)


def freshness_lifetime(headers: Mapping[str, str], now: float) -> float:
    """Seconds a response stays fresh (RFC 9111 §4.2.1): max-age first (CCP drives freshness by
    it), else Expires minus Date, or minus the local clock when there is no Date."""
    directives = cache_directives(headers)
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    max_age = _delta_seconds(directives.get("max-age"))
    if max_age is not None:
        return float(max_age)
    expires = headers.get("expires")
    if not expires:
        return 0.0
    expires_at = http_date(expires)
    if expires_at is None:
        return 0.0  # "Expires: 0" and other invalid dates mean already expired
    date_at = http_date(headers.get("date"))
    return max(expires_at - (date_at if date_at is not None else now), 0.0)


DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # a crawler's 1,000-order pages (~170 KB) fill it at ~1,500


def _size(entry: CacheEntry) -> int:
    return len(entry.body) + sum(len(name) + len(value) for name, value in entry.headers.items()) + 200


class ResponseCache:
    """A bounded LRU of response bodies (by entries and by bytes), in front of an optional
    persistent store whose calls are bounded by `StoreGuard`."""

    def __init__(
        self,
        max_entries: int = 4096,
        store: CacheStore | None = None,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        store_slow_seconds: float = 0.5,
        store_retry_seconds: float = 5.0,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.store = store
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._sizes: dict[str, int] = {}
        self.bytes = 0  # what the kept entries take, roughly: bodies and headers
        self._lock = threading.Lock()
        # the persistent store's calls: bounded, left alone after a failure, an outage told once
        bounded = getattr(store, "bounds_its_own_calls", False)
        self.guard = StoreGuard(None if bounded else store_slow_seconds, store_retry_seconds)
        self.flights: Flights[CacheEntry] = Flights()  # identical GETs in flight share one request

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> CacheEntry | None:
        entry = self._entries.get(key)
        if entry is not None:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
        return entry

    def remember(self, key: str, entry: CacheEntry) -> None:
        """Keep the entry in memory (the persistent store is `persist`'s: it may block). An entry
        bigger than the whole budget is not kept in memory at all."""
        size = _size(entry)
        with self._lock:
            self._drop(key)
            if size > self.max_bytes:
                return
            self._entries[key] = entry
            self._sizes[key] = size
            self.bytes += size
            while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        if self._entries.pop(key, None) is not None:
            self.bytes -= self._sizes.pop(key)

    def persist(self, key: str, entry: CacheEntry) -> None:
        """Write the entry to the persistent store (a 200, or a 304 that refreshed its headers)."""
        if self.store is not None:
            self._save(
                key,
                StoredResponse(entry.status, dict(entry.headers), entry.body, entry.etag, entry.fresh_until),
            )

    def load_entry(self, key: str) -> CacheEntry | None:
        stored = self.load_stored(key)
        if stored is None:
            return None
        return CacheEntry(stored.status, stored.headers, stored.body, stored.etag, stored.fresh_until)

    def count_store_error(self, key: str, reason: str) -> None:
        """A stored entry this client cannot use (another version wrote it): a miss, counted."""
        self.guard.count_error()
        logger.warning("cache store entry %s is unusable (%s): treated as a miss", key, reason)

    # A persistent store is an optimisation: when it fails (Redis down, disk full) the call still
    # returns what ESI sent; the failure is logged and counted in `store_errors`, not raised.

    @property
    def store_errors(self) -> int:
        return self.guard.errors

    @property
    def shares_claims(self) -> bool:
        """The store is shared by processes and can mark a key as being fetched (Redis)."""
        return self.store is not None and hasattr(self.store, "claim")

    def claim(self, key: str, seconds: float) -> bool:
        """True when this process may fetch the key (a failing store never holds a call back)."""
        return bool(self.guard.run("claim", key, lambda: self.store.claim(key, seconds), True))  # type: ignore[union-attr]

    def release_claim(self, key: str) -> None:
        self.guard.run("release", key, lambda: self.store.release(key), None)  # type: ignore[union-attr]

    def load_stored(self, key: str) -> StoredResponse | None:
        if self.store is None:
            return None
        store = self.store

        def read() -> StoredResponse | UnusableEntry | None:
            try:
                return store.load(key)
            except UnusableEntry as exc:  # the store answered: the entry is what is wrong
                return exc

        stored = self.guard.run("load", key, read, None)
        if stored is None:
            return None
        if isinstance(stored, UnusableEntry):
            self.count_store_error(key, str(stored))
            return None
        reason = unusable(stored)
        if reason:
            self.count_store_error(key, reason)
            return None
        return stored

    def _save(self, key: str, stored: StoredResponse) -> None:
        store = self.store
        assert store is not None
        self.guard.run("save", key, lambda: store.save(key, stored), None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._sizes.clear()
            self.bytes = 0
