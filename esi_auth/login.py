"""The login flow without a web framework: start (authorize URL + pending login), finish
(callback checked, code exchanged, token validated and stored)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

from attrs import frozen

from esi_auth.errors import InvalidGrantError, LoginError, SSOError, TokenValidationError
from esi_auth.events import Events
from esi_auth.owners import remove_earlier_owners
from esi_auth.pkce import make_state, make_verifier
from esi_auth.scopes import normalise_scopes
from esi_auth.sso import SSOClient
from esi_auth.store.sql import SQLTokenStore
from esi_auth.token import Token

PENDING_LOGIN_MAX_AGE = 300.0
MAX_PENDING_LOGINS = 10_000  # logins started and not finished within PENDING_LOGIN_MAX_AGE


@frozen
class PendingLogin:
    url: str
    state: str


@frozen
class CompletedLogin:
    """A finished login: the token (its `owner` set), and the page a web login goes back to."""

    token: Token
    return_to: str | None


class LoginFlow:
    def __init__(self, store: SQLTokenStore, sso: SSOClient, *, events: Events | None = None) -> None:
        self.store, self.sso = store, sso
        self.events = events or Events()

    def start(
        self, scopes: str | Iterable[str], *, owner: str | None = None, return_to: str | None = None
    ) -> PendingLogin:
        """A pending login (for the site user `owner`, going back to `return_to` when done)."""
        now = self.sso.clock.now()
        self.store.delete_pending_logins_older_than(PENDING_LOGIN_MAX_AGE, now)  # bounded in time
        if self.store.count_pending_logins() >= MAX_PENDING_LOGINS:  # and in number
            raise LoginError(
                f"{MAX_PENDING_LOGINS:,} logins are already waiting for EVE SSO; try again in a few minutes"
            )
        state = make_state()
        verifier = make_verifier() if self.sso.config.uses_pkce else None
        wanted = normalise_scopes(scopes)
        self.store.add_pending_login(
            state,
            verifier,
            wanted,
            self.sso.config.client_id,
            now,
            owner=owner,
            return_to=return_to,
        )
        return PendingLogin(self.sso.authorize_url(wanted, state, verifier), state)

    def finish(
        self, callback: str, *, store_token: bool = True, max_age: float = PENDING_LOGIN_MAX_AGE
    ) -> Token:
        """Finish from the callback URL (or its query string) the browser was sent to."""
        return self.complete(callback, store_token=store_token, max_age=max_age).token

    def complete(
        self, callback: str, *, store_token: bool = True, max_age: float = PENDING_LOGIN_MAX_AGE
    ) -> CompletedLogin:
        """Finish, and say where a web login goes back to."""
        query = parse_qs(urlsplit(callback).query if "?" in callback or "://" in callback else callback)
        if "error" in query:
            raise LoginError(f"EVE SSO refused the login: {query['error'][0]}")
        code, state = (query.get("code") or [""])[0], (query.get("state") or [""])[0]
        if not code or not state:
            raise LoginError("the callback has no code or state")
        pending = self.store.take_pending_login(state)
        if pending is None:
            raise LoginError("unknown or already used login state; start the login again", start_again=True)
        if self.sso.clock.now() - pending["created_at"] > max_age:
            raise LoginError(f"the login took longer than {int(max_age)} s; start it again", start_again=True)
        try:
            grant = self.sso.exchange_code(code, pending["code_verifier"])
        except (SSOError, TokenValidationError) as exc:  # refused, or its access token not CCP's
            # invalid_grant: a code is used once and lives minutes; a refused one cannot be retried
            spent = isinstance(exc, InvalidGrantError)
            raise LoginError(f"the code exchange failed: {exc}", start_again=spent) from None
        token = grant.to_token(self.sso.clock.now())
        token.owner = pending.get("owner")
        return_to = pending.get("return_to")
        if not store_token:
            return CompletedLogin(token, return_to)
        remove_earlier_owners(
            self.store,
            self.events,
            character_id=token.character_id,
            client_id=token.client_id,
            owner_hash=token.owner_hash,
        )
        self.store.save(token)
        self.events.emit("token_saved", character_id=token.character_id, token_id=token.id)
        return CompletedLogin(token, return_to)
