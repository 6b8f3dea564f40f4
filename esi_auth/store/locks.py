"""The refresh lock belongs to the store: whoever can reach the database is serialised by it.

PostgreSQL: a session advisory lock per token on a connection of its own (released by the server
if the process dies). SQLite: a POSIX byte-range lock per token on a lock file beside the
database, created with the database's own permissions, so every user and process of that file
(containers, PrivateTmp, other hosts on a shared disk that honours POSIX locks) is serialised and
nothing lives in a shared world-writable directory. Other databases: a lock file in a per-user
0700 directory (one host only).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from esi_auth.errors import AuthError

logger = logging.getLogger("esi_auth.store")
LOCK_TIMEOUT_SECONDS = 120.0
_REFRESH_KEY = 0x7265  # the first key of the two-key advisory lock: "re"(fresh)


class _LockFile:
    """A lock file's one descriptor in this process, and a thread lock per token: POSIX locks
    belong to the process, so threads (and stores) of one process are serialised here first; and
    closing any descriptor of a file drops every lock the process holds on it, so it stays open."""

    def __init__(self, path: Path, mode: int) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, mode)
        self.threads: dict[int, threading.Lock] = {}
        self.guard = threading.Lock()

    def thread_lock(self, token_id: int) -> threading.Lock:
        with self.guard:
            return self.threads.setdefault(token_id, threading.Lock())


_FILES: dict[Path, _LockFile] = {}
_FILES_GUARD = threading.Lock()


def _unlock(connection: Any, token_id: int) -> None:
    """Release the advisory lock. When the database went away meanwhile, the lock went with the
    session: the failure is logged, never raised over what the locked work raised or returned."""
    try:
        connection.execute(text("SELECT pg_advisory_unlock(:a, :b)"), {"a": _REFRESH_KEY, "b": token_id})
        connection.commit()
    except DBAPIError as exc:
        logger.warning("the refresh lock of token %s ended with its connection: %s", token_id, exc.orig)


class StoreLock:
    def __init__(self, engine: Engine, sqlite_file: Path | None) -> None:
        self.engine = engine
        self.sqlite_file = sqlite_file

    @contextmanager
    def hold(self, token_id: int) -> Iterator[None]:
        if self.engine.dialect.name == "postgresql":
            with self._advisory(token_id):
                yield
        elif self.sqlite_file is not None:
            with self._byte_range(token_id):
                yield
        else:
            with self._user_file(token_id):
                yield

    @contextmanager
    def _advisory(self, token_id: int) -> Iterator[None]:
        with self.engine.connect() as connection:
            connection.execute(text(f"SET statement_timeout = {int(LOCK_TIMEOUT_SECONDS * 1000)}"))
            connection.execute(text("SELECT pg_advisory_lock(:a, :b)"), {"a": _REFRESH_KEY, "b": token_id})
            try:
                yield
            finally:
                _unlock(connection, token_id)

    def _lock_file(self) -> _LockFile:
        assert self.sqlite_file is not None
        path = self.sqlite_file.resolve().with_name(self.sqlite_file.name + "-refresh.lock")
        with _FILES_GUARD:
            found = _FILES.get(path)
            if found is None:
                try:
                    mode = self.sqlite_file.stat().st_mode & 0o666
                except OSError:
                    mode = 0o600
                found = _FILES[path] = _LockFile(path, mode)
            return found

    @contextmanager
    def _byte_range(self, token_id: int) -> Iterator[None]:
        import fcntl

        lock_file = self._lock_file()
        with lock_file.thread_lock(token_id):
            fd = lock_file.fd
            with self._fcntl_held(fcntl, fd, token_id):
                yield

    @contextmanager
    def _fcntl_held(self, fcntl: Any, fd: int, token_id: int) -> Iterator[None]:
        deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, token_id)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AuthError(
                        f"the refresh lock of token {token_id} was held for over {LOCK_TIMEOUT_SECONDS:.0f} s"
                    ) from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, token_id)

    @contextmanager
    def _user_file(self, token_id: int) -> Iterator[None]:
        from filelock import FileLock
        from platformdirs import user_cache_path

        digest = hashlib.sha256(str(self.engine.url).encode()).hexdigest()[:16]
        directory = user_cache_path("esikit") / "locks" / digest
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with FileLock(str(directory / f"{token_id}.lock"), timeout=LOCK_TIMEOUT_SECONDS):
            yield
