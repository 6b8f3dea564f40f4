"""Response caching above HTTP: bodies kept in memory (a bounded LRU), optionally persisted.

ESI's caching is plain: `Cache-Control: max-age` (else `Expires`) says how long a response is
fresh, `ETag` lets a stale one be revalidated with `If-None-Match`. The cache keeps the body's
bytes, not the parsed result: every caller gets models of its own, decoded from immutable bytes,
so no caller can change what the next one gets (a copy of a parsed page would cost more than
decoding it again; see the README for the figures).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Protocol

from attrs import define, frozen

from esi_client._flights import Flights
from esi_client._headers import cache_directives, http_date

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
    stored: bool = False  # read from the persistent store (maybe by another version): check it


class CacheStore(Protocol):
    """A persistent second level (SQLite, Redis, …): raw responses by key."""

    def load(self, key: str) -> StoredResponse | None: ...

    def save(self, key: str, response: StoredResponse) -> None: ...


def may_store(headers: Mapping[str, str]) -> bool:
    """False for `Cache-Control: no-store`: such a response is never kept, in memory or on disk."""
    return "no-store" not in cache_directives(headers)


def freshness_lifetime(headers: Mapping[str, str], now: float) -> float:
    """Seconds a response stays fresh (RFC 9111 §4.2.1): max-age first (CCP drives freshness by
    it), else Expires minus Date, or minus the local clock when there is no Date."""
    directives = cache_directives(headers)
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    max_age = directives.get("max-age", "")
    if max_age.isdigit():
        return float(max_age)
    expires = headers.get("expires")
    if not expires:
        return 0.0
    expires_at = http_date(expires)
    if expires_at is None:
        return 0.0  # "Expires: 0" and other invalid dates mean already expired
    date_at = http_date(headers.get("date"))
    return max(expires_at - (date_at if date_at is not None else now), 0.0)


class ResponseCache:
    """A bounded LRU of parsed results, in front of an optional persistent store."""

    def __init__(self, max_entries: int = 4096, store: CacheStore | None = None) -> None:
        self.max_entries = max_entries
        self.store = store
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._lock = threading.Lock()
        self.store_errors = 0  # persistent-store reads and writes that failed (logged, not raised)
        self._store_down = False  # an outage is told once when it starts and once when it ends
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
        """Keep the parsed entry in memory (the persistent store is `persist`'s: it may block)."""
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

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
        return CacheEntry(stored.status, stored.headers, stored.body, stored.etag, stored.fresh_until, True)

    def count_store_error(self, key: str, reason: str) -> None:
        """A stored entry this client cannot use (another version wrote it): a miss, counted."""
        with self._lock:
            self.store_errors += 1
        logger.warning("cache store entry %s is unusable (%s): treated as a miss", key, reason)

    # A persistent store is an optimisation: when it fails (Redis down, disk full) the call still
    # returns what ESI sent; the failure is logged and counted in `store_errors`, not raised.

    @property
    def shares_claims(self) -> bool:
        """The store is shared by processes and can mark a key as being fetched (Redis)."""
        return self.store is not None and hasattr(self.store, "claim")

    def claim(self, key: str, seconds: float) -> bool:
        """True when this process may fetch the key (a failing store never holds a call back)."""
        try:
            claimed = bool(self.store.claim(key, seconds))  # type: ignore[union-attr]
        except Exception as exc:
            self._store_failed("claim", key, exc)
            return True
        self._store_answered()
        return claimed

    def claimed(self, key: str) -> bool:
        try:
            return bool(self.store.claimed(key))  # type: ignore[union-attr]
        except Exception as exc:
            self._store_failed("claimed", key, exc)
            return False

    def release_claim(self, key: str) -> None:
        try:
            self.store.release(key)  # type: ignore[union-attr]
        except Exception as exc:
            self._store_failed("release", key, exc)

    def load_stored(self, key: str) -> StoredResponse | None:
        if self.store is None:
            return None
        try:
            stored = self.store.load(key)
        except Exception as exc:
            self._store_failed("load", key, exc)
            return None
        self._store_answered()
        return stored

    def _save(self, key: str, stored: StoredResponse) -> None:
        assert self.store is not None
        try:
            self.store.save(key, stored)
        except Exception as exc:
            self._store_failed("save", key, exc)
            return
        self._store_answered()

    def _store_failed(self, action: str, key: str, exc: Exception) -> None:
        """Counted every time; told at WARNING once per outage (the rest at DEBUG), so a store
        that is down for minutes costs one log line, not one per key and step."""
        with self._lock:
            self.store_errors += 1
            first = not self._store_down
            self._store_down = True
        if first:
            logger.warning(
                "cache store failed (%s of %s: %s: %s): calls go on without it, counted in "
                "cache.store_errors, until it answers again",
                action,
                key,
                type(exc).__name__,
                exc,
            )
        else:
            logger.debug("cache store %s of %s failed: %s", action, key, type(exc).__name__)

    def _store_answered(self) -> None:
        if not self._store_down:
            return
        with self._lock:
            was_down, self._store_down = self._store_down, False
            failures = self.store_errors
        if was_down:
            logger.warning("cache store answers again (%d failed operations in all)", failures)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
