"""Refreshing tokens safely when EVE SSO rotates refresh tokens.

A refresh of one token runs once at a time in a process (a lock per token) and across
processes and hosts (the store's lock: a PostgreSQL advisory lock, or a lock beside the SQLite
file). Under the lock the token is read again: if another thread or process already refreshed
it, that result is used, so a rotated-away refresh token is never sent twice (EVE SSO would
revoke the grant). SSO's answer is persisted before anything else is done with it: the rotated
refresh token is the only copy, so a crash, an unreachable JWKS or a new signing key while the
new access token is validated loses nothing (the token is kept expired, with the new refresh
token; the next refresh validates that saved answer rather than ask SSO again). A refresh whose
answer never came back is asked again at once (EVE SSO takes the old token back while its
unseen successor is unused). An answer the store cannot take (the database down at that moment)
is kept in memory and in an encrypted spill file, and written when the store is back
(esi_auth.spill). A token is known by its identity (character, application, creation time),
never by its id alone. invalid_grant deletes the token; transient failures keep it.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from esi_auth.errors import (
    AuthError,
    InvalidGrantError,
    SSOError,
    StoreUnavailableError,
    TokenRevokedError,
)
from esi_auth.events import Events
from esi_auth.owners import remove_earlier_owners
from esi_auth.spill import RefreshSpill
from esi_auth.sso import Grant, SSOClient, TokenAnswer
from esi_auth.store.sql import SQLTokenStore, failure_reason
from esi_auth.token import Token
from esi_client import telemetry

DEFAULT_MARGIN_SECONDS = 60.0
NO_ANSWER_RETRY_PAUSES = (0.2, 1.0)  # then the error goes to the caller; the token is kept


class TokenRefresher:
    def __init__(
        self,
        store: SQLTokenStore,
        sso: SSOClient,
        *,
        margin: float = DEFAULT_MARGIN_SECONDS,
        events: Events | None = None,
        spill_dir: Path | None = None,
    ) -> None:
        """`spill_dir`: where answers the store could not take are kept (default: the user's
        state directory, e.g. ~/.local/state/esikit/spill)."""
        self.store, self.sso, self.margin = store, sso, margin
        self.events = events or Events()
        self.spill = RefreshSpill(store, spill_dir)
        self._locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def _lock(self, token_id: int) -> threading.Lock:
        with self._guard:
            return self._locks[token_id]

    def ensure_fresh(self, token: Token) -> Token:
        """The token itself while it has `margin` seconds left, else a refreshed one (and one
        whose answer waits in the spill: the store takes it now)."""
        if not token.expires_within(self.margin, self.sso.clock.now()) and not self.spill.holds(token):
            return token
        return self.refresh(token)

    def refresh(self, token: Token, *, force: bool = False) -> Token:
        """Refresh now (`force`: even if still valid, e.g. after a 401)."""
        if token.id is None:
            return self._refresh_unstored(token)
        try:
            with self._lock(token.id), self.store.lock(token.id):
                return self._refresh_locked(token, force)
        except DBAPIError as exc:
            return self._while_the_store_is_down(token, exc)

    def _refresh_locked(self, token: Token, force: bool) -> Token:
        assert token.id is not None
        current = self.store.get(token.id)
        if current is None or not _same_token(current, token):
            raise InvalidGrantError.found_here("the token was deleted")
        current = self._write_spilled(current)
        replaced = current.access_token != token.access_token and current.expires_at > 0
        if replaced or (not force and not current.expires_within(self.margin, self.sso.clock.now())):
            return current  # someone else refreshed it meanwhile
        if current.refresh_token is None:
            raise InvalidGrantError.found_here("the token has no refresh token")
        if not force and current.expires_at == 0:
            saved = self._saved_answer(current)  # a process died before validating it
            if saved is not None:
                return self._complete(current, saved)
        try:
            answer = self._refresh_answer(current.refresh_token)
        except InvalidGrantError as refused:
            self.store.delete(token.id)
            self.events.emit("token_revoked", character_id=current.character_id, token_id=token.id)
            raise TokenRevokedError(
                refused,
                character_id=current.character_id,
                character_name=current.character_name,
                scopes=tuple(current.scopes),
            ) from None
        rotated = answer.refresh_token or current.refresh_token
        try:
            self.store.save_rotation(token.id, rotated, answer.access_token)
        except DBAPIError as exc:
            self.spill.keep(current, rotated, answer.access_token)
            raise StoreUnavailableError(
                f"the token store {self.store.describe()} could not be written ({failure_reason(exc)}); "
                f"the refreshed token of {current.character_name} ({current.character_id}) is kept "
                f"in memory and in {self.spill.path}, and written when the store is back"
            ) from None
        return self._complete(current, self.sso.validate(answer))

    def _write_spilled(self, current: Token) -> Token:
        """An answer kept while the store was down is written first: its refresh token is the
        one SSO honours now."""
        spilled = self.spill.answer_for(current)
        if spilled is None or current.id is None:
            return current
        self.store.save_rotation(current.id, *spilled)
        self.spill.forget(current)
        return self.store.get(current.id) or current

    def _while_the_store_is_down(self, token: Token, exc: DBAPIError) -> Token:
        """With the store unreachable, a kept answer still serves (in memory); otherwise the
        error names the store and the outage."""
        spilled = self.spill.answer_for(token)
        grant = None if spilled is None else self._still_good(spilled[1], spilled[0])
        if grant is not None:
            token.access_token, token.refresh_token = grant.access_token, grant.refresh_token
            token.expires_at = grant.claims.expires_at
            return token
        raise StoreUnavailableError(
            f"the token store {self.store.describe()} cannot be reached ({failure_reason(exc)}); "
            f"the token of {token.character_name} ({token.character_id}) was not refreshed"
        ) from None

    def _saved_answer(self, current: Token) -> Grant | None:
        """The answer a refresh saved and never validated, if still good (then SSO need not be
        asked again)."""
        return self._still_good(current.access_token, current.refresh_token)

    def _still_good(self, access_token: str, refresh_token: str | None) -> Grant | None:
        """A kept answer, validated, if its access token is good for `margin` seconds more."""
        try:
            grant = self.sso.validate(TokenAnswer(access_token))
        except AuthError:
            return None
        if grant.claims.expires_at - self.sso.clock.now() <= self.margin:
            return None
        return Grant(grant.claims, grant.access_token, refresh_token)

    def _complete(self, current: Token, grant: Grant) -> Token:
        """A validated answer: the owner checked, the token saved and announced."""
        if grant.claims.owner_hash != current.owner_hash:
            remove_earlier_owners(
                self.store,
                self.events,
                character_id=current.character_id,
                client_id=current.client_id,
                owner_hash=grant.claims.owner_hash,
            )
            raise InvalidGrantError.found_here("the character changed owner; its tokens were removed")
        current.access_token = grant.access_token
        current.refresh_token = grant.refresh_token or current.refresh_token
        current.expires_at = grant.claims.expires_at
        current.scopes = grant.claims.scopes
        self.store.save(current)
        telemetry.token_refreshed(current.client_id)
        self.events.emit("token_refreshed", character_id=current.character_id, token_id=current.id)
        return current

    def _refresh_answer(self, refresh_token: str) -> TokenAnswer:
        """SSO's answer, asked again at once when none came back: SSO may have rotated the token
        with the answer lost on the way, and it takes the token we hold only until its unseen
        successor is used (a process killed at that moment leaves the same to whoever refreshes
        next). Refusals and SSO's own errors are not retried."""
        for pause in NO_ANSWER_RETRY_PAUSES:
            try:
                return self.sso.refresh_answer(refresh_token)
            except SSOError as error:
                if error.status != 0:
                    raise
            time.sleep(pause)
        return self.sso.refresh_answer(refresh_token)

    def _refresh_unstored(self, token: Token) -> Token:
        """A single-use token (never stored): refreshed in memory, for this use only."""
        if not token.refresh_token:
            raise InvalidGrantError.found_here("this single-use token has no refresh token")
        grant = self.sso.refresh(token.refresh_token)
        token.access_token = grant.access_token
        token.refresh_token = grant.refresh_token or token.refresh_token
        token.expires_at = grant.claims.expires_at
        return token


def _same_token(current: Token, expected: Token) -> bool:
    return (current.character_id, current.client_id, current.created_at) == (
        expected.character_id,
        expected.client_id,
        expected.created_at,
    )
