"""Where cached responses live: memory (default), SQLite on disk, or Redis for many processes.

    ESIClient(..., cache=SQLiteCache("~/.cache/my-app/esi.sqlite"))
    ESIClient(..., cache=RedisCache("redis://localhost:6379/0"))

A persistent store keeps each response's raw body and headers; the parsed result is rebuilt
from it once per process and then served from memory.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from esi_client.runtime.cache.memory import CacheStore, ResponseCache, StoredResponse, UnusableEntry

KEEP_STALE_SECONDS = 7 * 86400  # stale entries are kept this long for ETag revalidation


DEFAULT_SQLITE_MAX_BYTES = 512 * 1024 * 1024
MAINTAIN_EVERY_SAVES = 64  # how often a long-running process trims the file as it goes


class SQLiteCache:
    """A file that survives restarts; created 0600. Safe to share between threads.

    Bounded as it goes, not only when opened: every MAINTAIN_EVERY_SAVES saves (or an eighth of
    `max_bytes` saved) it drops
    expired entries that cannot be revalidated (no ETag) or are older than `keep_stale`, then
    the least recently stored ones while the bodies and headers take more than `max_bytes`
    (freed pages are reused, so the file stops growing)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int = DEFAULT_SQLITE_MAX_BYTES,
        keep_stale: float = KEEP_STALE_SECONDS,
    ) -> None:
        self.path = Path(path).expanduser()
        self.max_bytes, self.keep_stale = max_bytes, keep_stale
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._lock = threading.Lock()
        self._saves = 0
        self._unchecked_bytes = 0  # saved since the last maintenance: a few big pages trigger it too
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=2000")  # another process writing: wait, bounded
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA journal_size_limit=4194304")  # the WAL file shrinks back to 4 MB
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS esi_cache (key TEXT PRIMARY KEY, status INTEGER, headers BLOB,"
            " body BLOB, etag TEXT, fresh_until REAL, stored_at REAL)"
        )
        self.maintain()

    def load(self, key: str) -> StoredResponse | None:
        with self._lock:
            row = self._db.execute(
                "SELECT status, headers, body, etag, fresh_until FROM esi_cache WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        status, headers, body, etag, fresh_until = row
        try:
            return StoredResponse(status, orjson.loads(headers), bytes(body), etag, fresh_until)
        except (orjson.JSONDecodeError, TypeError) as exc:
            raise UnusableEntry(f"its headers or body cannot be read ({exc})") from None

    def save(self, key: str, response: StoredResponse) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO esi_cache VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    response.status,
                    orjson.dumps(response.headers),
                    response.body,
                    response.etag,
                    response.fresh_until,
                    time.time(),
                ),
            )
            self._saves += 1
            self._unchecked_bytes += len(response.body)
            due = self._saves % MAINTAIN_EVERY_SAVES == 0 or self._unchecked_bytes > self.max_bytes // 8
            if due:
                self._unchecked_bytes = 0
        if due:
            self.maintain()

    def prune(self, older_than: float | None = None) -> int:
        """Remove entries stored more than `older_than` seconds ago (default: `keep_stale`), and
        expired ones without an ETag (nothing to revalidate them with); returns how many."""
        now = time.time()
        cutoff = now - (self.keep_stale if older_than is None else older_than)
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM esi_cache WHERE stored_at < ? OR (etag IS NULL AND fresh_until < ?)",
                (cutoff, now),
            )
            return cursor.rowcount

    def size(self) -> int:
        """What the entries take: bodies and headers, in bytes."""
        with self._lock:
            row = self._db.execute(
                "SELECT COALESCE(SUM(LENGTH(body) + LENGTH(headers)), 0) FROM esi_cache"
            ).fetchone()
        return int(row[0])

    def maintain(self) -> int:
        """Prune, then drop the least recently stored entries until within `max_bytes`."""
        removed = self.prune()
        while self.size() > self.max_bytes:
            with self._lock:
                cursor = self._db.execute(
                    "DELETE FROM esi_cache WHERE key IN "
                    "(SELECT key FROM esi_cache ORDER BY stored_at LIMIT 64)"
                )
            if not cursor.rowcount:
                break
            removed += cursor.rowcount
        if removed:
            with self._lock:  # pages freed in the WAL go back to the file, where they are reused
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed

    def close(self) -> None:
        with self._lock:
            self._db.close()


class RedisCache:
    """A cache shared by several processes (web workers, Celery workers) through Redis.

    Each entry is one value: the JSON of status, headers, ETag and freshness, a newline, then the
    body's bytes as ESI sent them (no re-encoding), expiring a while after it goes stale.

    Needs the `redis` package (`pip install esikit[redis]`).
    """

    # Every command is bounded by socket timeouts that raise: a stalled Redis is a failure, and
    # the time a command took (GIL waits in a busy process included) is not held against it.
    bounds_its_own_calls = True

    def __init__(self, url: str | Any = "redis://localhost:6379/0", prefix: str = "esikit:cache:v2:") -> None:
        import redis

        # Bounded: a Redis that hangs costs a call at most this long before it is a miss.
        options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
        self._redis: Any = redis.Redis.from_url(url, **options) if isinstance(url, str) else url
        self.prefix = prefix

    def load(self, key: str) -> StoredResponse | None:
        raw = self._redis.get(self.prefix + key)
        if raw is None:
            return None
        meta, _, body = bytes(raw).partition(b"\n")  # orjson never writes a raw newline
        try:
            data = orjson.loads(meta)
            return StoredResponse(data["status"], data["headers"], body, data["etag"], data["fresh_until"])
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise UnusableEntry(f"its metadata cannot be read ({type(exc).__name__}: {exc})") from None

    def save(self, key: str, response: StoredResponse) -> None:
        meta = {
            "status": response.status,
            "headers": response.headers,
            "etag": response.etag,
            "fresh_until": response.fresh_until,
        }
        ttl = max(int(response.fresh_until - time.time()), 0) + KEEP_STALE_SECONDS
        self._redis.set(self.prefix + key, orjson.dumps(meta) + b"\n" + response.body, ex=ttl)

    # Another process about to ask ESI for a key marks it; the others wait for its answer here
    # instead of asking again (CCP names duplicate requests the abuse it sees most).
    def claim(self, key: str, seconds: float) -> bool:
        marker = self.prefix + "in-flight:" + key
        return bool(self._redis.set(marker, b"1", nx=True, px=max(int(seconds * 1000), 1)))

    def release(self, key: str) -> None:
        self._redis.delete(self.prefix + "in-flight:" + key)


__all__ = ["CacheStore", "RedisCache", "ResponseCache", "SQLiteCache", "StoredResponse", "UnusableEntry"]
