"""Response caching above HTTP: parsed results kept in memory, raw bodies optionally persisted.

ESI's caching is plain: `Expires` (or `max-age`) says how long a response is fresh, `ETag`
lets a stale one be revalidated with `If-None-Match`. Caching the *parsed* result is what makes a
fresh hit cost microseconds and lets a 304 skip decoding, which an HTTP-level cache (hishel)
cannot do; see the README for that choice.
"""

from __future__ import annotations

import email.utils
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

from attrs import define, frozen

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
    status: int
    headers: Mapping[str, str]
    parsed: Any
    etag: str | None
    fresh_until: float


class CacheStore(Protocol):
    """A persistent second level (SQLite, Redis, …): raw responses by key."""

    def load(self, key: str) -> StoredResponse | None: ...

    def save(self, key: str, response: StoredResponse) -> None: ...

    def delete(self, key: str) -> None: ...


def freshness_lifetime(headers: Mapping[str, str]) -> float:
    """Seconds a response stays fresh (RFC 9111 §4.2.1): max-age, else Expires minus Date."""
    control = headers.get("cache-control", "")
    if "no-store" in control or "no-cache" in control:
        return 0.0
    for directive in control.split(","):
        name, _, value = directive.strip().partition("=")
        if name == "max-age" and value.isdigit():
            return float(value)
    expires, date = headers.get("expires"), headers.get("date")
    if not expires:
        return 0.0
    try:
        expires_at = email.utils.parsedate_to_datetime(expires).timestamp()
        date_at = email.utils.parsedate_to_datetime(date).timestamp() if date else None
    except (TypeError, ValueError):
        return 0.0
    return max(expires_at - date_at, 0.0) if date_at is not None else 0.0


class ResponseCache:
    """A bounded LRU of parsed results, in front of an optional persistent store."""

    def __init__(self, max_entries: int = 4096, store: CacheStore | None = None) -> None:
        self.max_entries = max_entries
        self.store = store
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._lock = threading.Lock()
        self.store_errors = 0  # persistent-store reads and writes that failed (logged, not raised)

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

    def persist(self, key: str, entry: CacheEntry, body: bytes) -> None:
        if self.store is not None:
            self._save(
                key, StoredResponse(entry.status, dict(entry.headers), body, entry.etag, entry.fresh_until)
            )

    def persist_refresh(self, key: str, fresh_until: float) -> None:
        """A 304 confirmed the entry: its stored copy is fresh again, body untouched."""
        stored = self.load_stored(key)
        if stored is not None:
            self._save(
                key, StoredResponse(stored.status, stored.headers, stored.body, stored.etag, fresh_until)
            )

    # A persistent store is an optimisation: when it fails (Redis down, disk full) the call still
    # returns what ESI sent; the failure is logged and counted in `store_errors`, not raised.

    def load_stored(self, key: str) -> StoredResponse | None:
        if self.store is None:
            return None
        try:
            return self.store.load(key)
        except Exception as exc:
            self._store_failed("load", key, exc)
            return None

    def _save(self, key: str, stored: StoredResponse) -> None:
        assert self.store is not None
        try:
            self.store.save(key, stored)
        except Exception as exc:
            self._store_failed("save", key, exc)

    def _store_failed(self, action: str, key: str, exc: Exception) -> None:
        with self._lock:
            self.store_errors += 1
        logger.warning("cache store %s of %s failed: %s: %s", action, key, type(exc).__name__, exc)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
