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

from esi_client._cache import CacheStore, ResponseCache, StoredResponse

KEEP_STALE_SECONDS = 7 * 86400  # stale entries are kept this long for ETag revalidation


class SQLiteCache:
    """A file that survives restarts; created 0600. Safe to share between threads."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS esi_cache (key TEXT PRIMARY KEY, status INTEGER, headers BLOB,"
            " body BLOB, etag TEXT, fresh_until REAL, stored_at REAL)"
        )
        self.prune()  # on open: bounded without a job of its own

    def load(self, key: str) -> StoredResponse | None:
        with self._lock:
            row = self._db.execute(
                "SELECT status, headers, body, etag, fresh_until FROM esi_cache WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        status, headers, body, etag, fresh_until = row
        return StoredResponse(status, orjson.loads(headers), bytes(body), etag, fresh_until)

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

    def prune(self, older_than: float = KEEP_STALE_SECONDS) -> int:
        """Remove entries stored more than `older_than` seconds ago; returns how many."""
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM esi_cache WHERE stored_at < ?", (time.time() - older_than,)
            )
            return cursor.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()


class RedisCache:
    """A cache shared by several processes (web workers, Celery workers) through Redis.

    Each entry is one value: the JSON of status, headers, ETag and freshness, a newline, then the
    body's bytes as ESI sent them (no re-encoding), expiring a while after it goes stale.

    Needs the `redis` package (`pip install esikit[redis]`).
    """

    def __init__(self, url: str | Any = "redis://localhost:6379/0", prefix: str = "esikit:cache:v2:") -> None:
        import redis

        # Bounded: a Redis that hangs costs a call at most this long before it is a miss.
        options = {"socket_connect_timeout": 0.5, "socket_timeout": 2.0}
        self._redis: Any = redis.Redis.from_url(url, **options) if isinstance(url, str) else url
        self.prefix = prefix

    def load(self, key: str) -> StoredResponse | None:
        raw = self._redis.get(self.prefix + key)
        if raw is None:
            return None
        meta, _, body = bytes(raw).partition(b"\n")  # orjson never writes a raw newline
        data = orjson.loads(meta)
        return StoredResponse(data["status"], data["headers"], body, data["etag"], data["fresh_until"])

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

    def claimed(self, key: str) -> bool:
        return bool(self._redis.exists(self.prefix + "in-flight:" + key))

    def release(self, key: str) -> None:
        self._redis.delete(self.prefix + "in-flight:" + key)


__all__ = ["CacheStore", "RedisCache", "ResponseCache", "SQLiteCache", "StoredResponse"]
