"""ESIAuth: the httpx2.Auth that gives every authenticated ESI call its token, transparently."""

from __future__ import annotations

from collections.abc import Generator

import httpx2

from esi_auth.errors import NoTokenError
from esi_auth.refresh import TokenRefresher
from esi_auth.token import Token

TOKEN_EXTENSION = "esi_token"  # noqa: S105 (a request extension name, not a secret)


class ESIAuth(httpx2.Auth):
    """Pick the character's token with the operation's scopes, refresh it when it is about to
    expire, send it; on a 401 refresh once and retry once.

        client = ESIClient(app_name=..., contact=..., auth=ESIAuth(refresher))
    """

    def __init__(self, refresher: TokenRefresher) -> None:
        self.refresher = refresher

    def choose(
        self, character_id: int | None, scopes: tuple[str, ...], operation_id: str | None = None
    ) -> Token:
        if character_id is None:
            raise NoTokenError(None, scopes, operation_id)
        store, client_id = self.refresher.store, self.refresher.sso.config.client_id
        token: Token | None = (
            store.query()
            .filter(character_id=int(character_id), client_id=client_id)
            .require_scopes(scopes)
            .first()
        )
        if token is None:
            raise NoTokenError(int(character_id), scopes, operation_id)
        return token

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        operation = request.extensions.get("esi_operation")
        if operation is None or not operation.scopes:
            yield request
            return
        token = request.extensions.get(TOKEN_EXTENSION) or self.choose(
            request.extensions.get("esi_character"), operation.scopes, operation.id
        )
        token = self.refresher.ensure_fresh(token)
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        response = yield request
        if response.status_code == 401:
            token = self.refresher.refresh(token, force=True)
            request.headers["Authorization"] = f"Bearer {token.access_token}"
            yield request
