"""API keys for a proxy bound beyond 127.0.0.1: kept as SHA-256 digests, never as the keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    """The keys' digests from a file of `name digest` lines (written by `esi proxy-keys add`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.names: dict[str, str] = {}  # digest -> name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                name, _, value = line.strip().partition(" ")
                if name and value:
                    self.names[value.strip()] = name

    def __bool__(self) -> bool:
        return bool(self.names)

    def accepts(self, key: str | None) -> bool:
        if not key:
            return False
        given = digest(key)
        # every digest compared in constant time: how long a refusal takes says nothing
        return any(hmac.compare_digest(given, known) for known in self.names)

    def add(self, name: str) -> str:
        """A new key for `name`: its digest is saved, the key itself only returned."""
        if not name or any(ch.isspace() for ch in name):
            raise ValueError(f"a key's name is one word, not {name!r}")
        if name in self.names.values():
            raise ValueError(f"there is already a key named {name!r}")
        key = "esk_" + secrets.token_urlsafe(32)
        self.names[digest(key)] = name
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(f"{known} {value}\n" for value, known in self.names.items())
        self.path.write_text(text, encoding="utf-8")
        self.path.chmod(0o600)
        return key
