"""ESIAuth: the httpx2.Auth that gives every authenticated ESI call its token, transparently."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator

import anyio.to_thread
import httpx2
from sqlalchemy.exc import DBAPIError

from esi_auth.errors import InvalidGrantError, NoTokenError, StoreUnavailableError, TokenRevokedError
from esi_auth.refresh import TokenRefresher
from esi_auth.store.sql import failure_reason
from esi_auth.token import Token
from esi_client.seam import CHARACTER_EXTENSION, OPERATION_EXTENSION, TOKEN_EXTENSION


class ESIAuth(httpx2.Auth):
    """Pick the character's token with the operation's scopes, refresh it when it is about to
    expire, send it; on a 401 refresh once and retry once.

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

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        token = self._prepare(request)
        response = yield request
        if token is not None and response.status_code == 401:
            self._refresh_and_authorise(request, token)
            yield request

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        """The same flow; choosing, refreshing and reading a token run in a worker thread.

        They may call the SSO over HTTP, take the cross-process refresh lock and read the
        keyring: on the event loop they would stall every other task for that long.
        """
        token = await anyio.to_thread.run_sync(self._prepare, request)
        response = yield request
        if token is not None and response.status_code == 401:
            await anyio.to_thread.run_sync(self._refresh_and_authorise, request, token)
            yield request

    def _prepare(self, request: httpx2.Request) -> Token | None:
        """Give the request a fresh token when its operation needs one; the token, or None."""
        operation = request.extensions.get(OPERATION_EXTENSION)
        if operation is None or not operation.scopes:
            return None
        given = request.extensions.get(TOKEN_EXTENSION)
        if given is not None:
            return self._authorise(request, self.refresher.ensure_fresh(given))
        candidates = self.candidates(
            request.extensions.get(CHARACTER_EXTENSION), operation.scopes, operation.id
        )
        for index, token in enumerate(candidates):
            try:
                return self._authorise(request, self.refresher.ensure_fresh(token))
            except TokenRevokedError as revoked:
                if index == len(candidates) - 1:  # the dead ones were deleted; none is left
                    raise revoked.for_operation(operation.id) from None
            except InvalidGrantError:
                if index == len(candidates) - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _refresh_and_authorise(self, request: httpx2.Request, token: Token) -> Token:
        try:
            return self._authorise(request, self.refresher.refresh(token, force=True))
        except TokenRevokedError as revoked:
            operation = request.extensions.get(OPERATION_EXTENSION)
            raise revoked.for_operation(operation.id) if operation is not None else revoked from None

    @staticmethod
    def _authorise(request: httpx2.Request, token: Token) -> Token:
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        return token
