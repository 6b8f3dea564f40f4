"""PKCE (RFC 7636, S256) and the random `state` of a login."""

from __future__ import annotations

import base64
import hashlib
import secrets


def make_verifier() -> str:
    """A code verifier: 64 URL-safe characters (RFC 7636 allows 43 to 128)."""
    return secrets.token_urlsafe(48)


def challenge_for(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make_state() -> str:
    return secrets.token_urlsafe(24)
