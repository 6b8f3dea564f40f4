"""Refreshing tokens safely when EVE SSO rotates refresh tokens.

A refresh of one token runs once at a time in a process (a lock per token) and across
processes (the store's lock). Under the lock the token is read again: if another thread or
process already refreshed it, that result is used, so a rotated-away refresh token is never
sent twice (EVE SSO would revoke the grant). The new refresh token is saved before the new
access token is handed out. invalid_grant deletes the token; transient failures keep it.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from esi_auth.errors import InvalidGrantError
from esi_auth.events import Events
from esi_auth.sso import SSOClient
from esi_auth.store.sql import SQLTokenStore
from esi_auth.token import Token

DEFAULT_MARGIN_SECONDS = 60.0


class TokenRefresher:
    def __init__(
        self,
        store: SQLTokenStore,
        sso: SSOClient,
        *,
        margin: float = DEFAULT_MARGIN_SECONDS,
        events: Events | None = None,
    ) -> None:
        self.store, self.sso, self.margin = store, sso, margin
        self.events = events or Events()
        self._locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def _lock(self, token_id: int) -> threading.Lock:
        with self._guard:
            return self._locks[token_id]

    def ensure_fresh(self, token: Token) -> Token:
        """The token itself while it has `margin` seconds left, else a refreshed one."""
        if not token.expires_within(self.margin, self.sso.clock.now()):
            return token
        return self.refresh(token)

    def refresh(self, token: Token, *, force: bool = False) -> Token:
        """Refresh now (`force`: even if still valid, e.g. after a 401)."""
        assert token.id is not None, "only stored tokens are refreshed"
        with self._lock(token.id), self.store.lock(token.id):
            current = self.store.get(token.id)
            if current is None:
                raise InvalidGrantError(400, "invalid_grant", "the token was deleted")
            replaced = current.access_token != token.access_token
            if replaced or (not force and not current.expires_within(self.margin, self.sso.clock.now())):
                return current  # someone else refreshed it meanwhile
            if current.refresh_token is None:
                raise InvalidGrantError(400, "invalid_grant", "the token has no refresh token")
            try:
                grant = self.sso.refresh(current.refresh_token)
            except InvalidGrantError:
                self.store.delete(current.id or 0)
                self.events.emit("token_revoked", character_id=current.character_id, token_id=current.id)
                raise
            if grant.claims.owner_hash != current.owner_hash:
                removed = self.store.query().filter(character_id=current.character_id).delete()
                self.events.emit("owner_changed", character_id=current.character_id, removed=removed)
                raise InvalidGrantError(
                    400, "invalid_grant", "the character changed owner; its tokens were removed"
                )
            current.access_token = grant.access_token
            current.refresh_token = grant.refresh_token or current.refresh_token
            current.expires_at = grant.claims.expires_at
            current.scopes = grant.claims.scopes
            self.store.save(current)
            self.events.emit("token_refreshed", character_id=current.character_id, token_id=current.id)
            return current
