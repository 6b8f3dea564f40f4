"""Tokens for proxied calls: a character's from the token store (esi_auth, refreshed as it
expires), or the bearer token a client sent, forwarded untouched."""

from __future__ import annotations

import base64
import hashlib

import orjson
from attrs import frozen

from esi_client.errors import UnauthorizedError
from esi_client.seam import AccessToken, TokenProvider, TokenRequest


@frozen(repr=False)
class PassedToken:
    """A bearer token a client sent. Its principal is the token's digest, so its answers are
    cached for that token alone: its claims are not checked here (ESI does that)."""

    character_id: int
    client_id: str
    access_token: str

    def __repr__(self) -> str:  # never the token itself
        return f"PassedToken(character_id={self.character_id}, client_id={self.client_id!r})"


def passed_token(bearer: str) -> PassedToken:
    digest = hashlib.sha256(bearer.encode()).hexdigest()[:32]
    return PassedToken(_claimed_character(bearer), f"bearer-{digest}", bearer)


def _claimed_character(bearer: str) -> int:
    """The character the token names (`sub` = CHARACTER:EVE:<id>), for its rate bucket; 0 when
    it does not say."""
    try:
        payload = bearer.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return int(str(claims.get("sub", "")).rsplit(":", 1)[-1])
    except (IndexError, ValueError, TypeError, AttributeError, orjson.JSONDecodeError):
        return 0


class ProxyTokens:
    """The proxy's TokenProvider: a passed token as it came; a character's from the store."""

    def __init__(self, store_auth: TokenProvider | None) -> None:
        self.store_auth = store_auth

    def cache_principal(self, character_id: int | None) -> str | None:
        return None if self.store_auth is None else self.store_auth.cache_principal(character_id)

    def token_for(self, request: TokenRequest) -> AccessToken:
        if isinstance(request.given, PassedToken):
            return request.given
        if self.store_auth is None:
            raise UnauthorizedError(
                operation_id=request.operation.id,
                status=401,
                error="this proxy has no SSO app configured: send Authorization: Bearer <token>",
                sent=False,
            )
        return self.store_auth.token_for(request)

    def token_after_refusal(self, request: TokenRequest, refused: AccessToken) -> AccessToken:
        if isinstance(refused, PassedToken) or self.store_auth is None:
            raise UnauthorizedError(
                operation_id=request.operation.id, status=401, error="ESI refused the token the client sent"
            )
        return self.store_auth.token_after_refusal(request, refused)
