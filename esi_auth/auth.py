"""ESIAuth: gives every authenticated ESI call its token, transparently (a TokenProvider)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from esi_auth.errors import InvalidGrantError, NoTokenError, StoreUnavailableError, TokenRevokedError
from esi_auth.refresh import TokenRefresher
from esi_auth.store.sql import failure_reason
from esi_auth.token import Token
from esi_client.seam import AccessToken, TokenRequest


class ESIAuth:
    """The TokenProvider (esi_client.seam) of esi_auth's store: picks the character's token with
    the operation's scopes and refreshes it when it is about to expire; after a 401 the runtime
    asks it once for a refreshed one and retries under its own counters, limits and deadline.

        client = ESIClient(app_name=..., contact=..., auth=ESIAuth(refresher))
    """

    def __init__(self, refresher: TokenRefresher) -> None:
        self.refresher = refresher

    def cache_principal(self, character_id: int | None) -> str | None:
        """Calls for a character are made with this application's token for that character."""
        if character_id is None:
            return None
        return f"{self.refresher.sso.config.client_id}/{int(character_id)}"

    def choose(
        self, character_id: int | None, scopes: tuple[str, ...], operation_id: str | None = None
    ) -> Token:
        """The newest token of this application for the character with the scopes."""
        return self.candidates(character_id, scopes, operation_id)[0]

    def candidates(
        self, character_id: int | None, scopes: tuple[str, ...], operation_id: str | None = None
    ) -> list[Token]:
        """Every token that fits, newest first (NoTokenError when none does)."""
        if character_id is None:
            raise NoTokenError(None, scopes, operation_id)
        store, client_id = self.refresher.store, self.refresher.sso.config.client_id
        try:
            tokens = (
                store.query()
                .filter(character_id=int(character_id), client_id=client_id)
                .require_scopes(scopes)
                .all()
            )
            held = None
            if not tokens:
                held = store.query().filter(character_id=int(character_id), client_id=client_id).first()
        except DBAPIError as exc:
            raise StoreUnavailableError(
                f"{operation_id or 'the call'} needs a token of character {character_id}, and the token "
                f"store {store.describe()} cannot be reached ({failure_reason(exc)})"
            ) from None
        if not tokens:
            lacking = tuple(s for s in scopes if held is not None and s not in held.scopes)
            raise NoTokenError(int(character_id), scopes, operation_id, lacking=lacking)
        return tokens

    def token_for(self, request: TokenRequest) -> Token:
        """The token an authenticated call sends: the caller's own (refreshed when it expires
        soon), else the newest of this application's for the character with the operation's
        scopes. A dead one (refused by SSO) is deleted and the next candidate used."""
        operation = request.operation
        if request.given is not None:
            return self.refresher.ensure_fresh(_stored_token(request.given))
        candidates = self.candidates(request.character_id, operation.scopes, operation.id)
        for index, token in enumerate(candidates):
            try:
                return self.refresher.ensure_fresh(token)
            except TokenRevokedError as revoked:
                if index == len(candidates) - 1:  # the dead ones were deleted; none is left
                    raise revoked.for_operation(operation.id) from None
            except InvalidGrantError:
                if index == len(candidates) - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def token_after_refusal(self, request: TokenRequest, refused: AccessToken) -> Token:
        """ESI answered 401 to `refused`: refreshed now, even if it looked valid."""
        try:
            return self.refresher.refresh(_stored_token(refused), force=True)
        except TokenRevokedError as revoked:
            raise revoked.for_operation(request.operation.id) from None


def _stored_token(token: AccessToken) -> Token:
    """esi_auth refreshes its own tokens only: a token of another kind is named, not guessed at."""
    if not isinstance(token, Token):
        raise TypeError(f"ESIAuth refreshes esi_auth.Token objects, not {type(token).__name__}")
    return token
