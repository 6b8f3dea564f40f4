"""Who a call is for and what its answer is cached under: the character, the principal
(application and character) and the cache key, from the client (or view) making it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlencode

from esi_client._operation import Operation
from esi_client.runtime.cache.memory import ResponseCache
from esi_client.runtime.records import CacheQuery
from esi_client.seam import AccessToken, PrincipalAuth


class Caller(Protocol):
    """What of an ESIClient (or one of its views) these read: no import of the client itself."""

    @property
    def cache(self) -> ResponseCache | None: ...
    @property
    def base_url(self) -> str: ...
    @property
    def tenant(self) -> str: ...
    @property
    def language(self) -> str | None: ...
    @property
    def compatibility_date(self) -> str: ...
    @property
    def token(self) -> AccessToken | None: ...
    @property
    def auth(self) -> object: ...
    @property
    def character_id(self) -> int | None: ...


def call_character(client: Caller, operation: Operation, request: Mapping[str, Any]) -> int | None:
    """The character an authenticated call is for: the view's, else the path's."""
    if not operation.scopes:
        return None
    if client.character_id is not None:
        return client.character_id
    character = request.get("path_params", {}).get("character_id")
    return int(character) if character is not None else None


def call_query(
    client: Caller, operation: Operation, request: Mapping[str, Any], character: int | None
) -> CacheQuery:
    """The cache key and whose the call is. An authenticated answer is cached only when its
    principal (application + character) is known; its rate bucket is the principal's, or at
    least the character's."""
    principal = _principal(client, operation, character)
    key = _cache_key(client, operation, request, principal)
    if principal is None and character is not None:
        return CacheQuery(key, str(character))
    return CacheQuery(key, principal)


def _principal(client: Caller, operation: Operation, character: int | None) -> str | None:
    """Whose data an authenticated answer is (application + character), when that is known."""
    if not operation.scopes:
        return None
    if client.token is not None:
        return f"{client.token.client_id}/{client.token.character_id}"
    auth: object = client.auth
    if isinstance(auth, PrincipalAuth):
        return auth.cache_principal(character)
    return None  # another auth: the runtime cannot know whose token it sends


def _cache_key(
    client: Caller, operation: Operation, request: Mapping[str, Any], principal: str | None
) -> str | None:
    """Everything that changes the answer: server, tenant, language, compatibility date,
    route, query and (for authenticated operations) the principal."""
    if client.cache is None or operation.method != "GET":
        return None
    if operation.scopes and principal is None:
        return None  # never share an authenticated answer between unknown principals
    params = request.get("params")
    # encoded as the URL's query is (a value's own "&" or "=" escaped; a list as repeated
    # names), so two different queries never share a key
    query = urlencode(sorted(params.items()), doseq=True) if params else ""
    context = f"{client.base_url}|{client.tenant}|{client.language or ''}|{client.compatibility_date}"
    return f"{context}|{request['url']}?{query}#{principal or ''}"
