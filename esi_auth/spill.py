"""Refresh answers the token store could not take.

When EVE SSO has answered a refresh and the store cannot be written (PostgreSQL down at that
moment, SQLite locked), the answer holds the only copy of the rotated refresh token: dropping it
loses the grant. It is kept in memory and in a spill file, sealed as the store seals its
secrets (encrypted with the store's key, or in the keyring), and written to the store on the
next refresh once the store is back. One file per store, only its owner can read it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path

from esi_auth.errors import AuthError
from esi_auth.store.sql import SQLTokenStore
from esi_auth.token import Token

logger = logging.getLogger("esi_auth.spill")
SPILL_KIND = "spill"


def default_spill_dir() -> Path:
    from platformdirs import user_state_path

    return user_state_path("esikit") / "spill"


def identity(token: Token) -> str:
    """A token's identity: its id alone could be reused once deleted."""
    return f"{token.id}:{token.client_id}:{token.character_id}:{token.created_at!r}"


class RefreshSpill:
    """Answers kept until the store takes them: `keep`, `answer_for`, `forget`."""

    def __init__(self, store: SQLTokenStore, directory: Path | None = None) -> None:
        self.store = store
        digest = hashlib.sha256(str(store.engine.url).encode()).hexdigest()[:16]
        self.path = (directory or default_spill_dir()) / f"{digest}.json"
        self._answers: dict[str, tuple[str, str]] = {}  # identity -> (refresh, access)
        self._lock = threading.Lock()

    def keep(self, token: Token, refresh_token: str, access_token: str) -> None:
        """Hold an answer in memory and in the file; a file that cannot be written is logged,
        the memory copy stays."""
        with self._lock:
            self._answers[identity(token)] = (refresh_token, access_token)
            try:
                self._write()
            except OSError as exc:
                logger.error("the refresh answer could not be spilled to %s: %s", self.path, exc)

    def answer_for(self, token: Token) -> tuple[str, str] | None:
        """(refresh token, access token) kept for this token, from memory or the file."""
        with self._lock:
            if not self._answers and self.path.exists():
                self._read()
            return self._answers.get(identity(token))

    def holds(self, token: Token) -> bool:
        """An answer for this token is kept in this process (memory only: checked on every call)."""
        return bool(self._answers) and identity(token) in self._answers

    def forget(self, token: Token) -> None:
        """The store holds the answer now."""
        with self._lock:
            if self._answers.pop(identity(token), None) is None:
                return
            try:
                self._write()
            except OSError as exc:
                logger.warning("the spill file %s could not be updated: %s", self.path, exc)

    def __len__(self) -> int:
        with self._lock:
            return len(self._answers)

    def _write(self) -> None:
        if not self._answers:
            self.path.unlink(missing_ok=True)
            return
        sealed = {
            key: self.store.secrets.seal(_token_id(key), SPILL_KIND, json.dumps(answer))
            for key, answer in self._answers.items()
        }
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = self.path.with_suffix(".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(sealed, file)
            file.flush()
            os.fsync(file.fileno())
        partial.replace(self.path)

    def _read(self) -> None:
        try:
            sealed = json.loads(self.path.read_text())
            for key, value in sealed.items():
                opened = self.store.secrets.open(_token_id(key), SPILL_KIND, value)
                refresh_token, access_token = json.loads(opened or "null")
                self._answers[key] = (str(refresh_token), str(access_token))
        except (OSError, ValueError, TypeError, AuthError) as exc:
            logger.error("the spill file %s cannot be read (%s); it is left as it is", self.path, exc)


def _token_id(key: str) -> int:
    return int(key.split(":", 1)[0])
