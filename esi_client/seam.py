"""The contract between esi_client and what gives authenticated calls their tokens.

A `TokenProvider` (esi_auth's `ESIAuth`, or your own) is asked, before an authenticated call's
first attempt, for the token of a `TokenRequest`: the operation (its scopes), the character
the call is for, and the token the caller passed, if any. After a 401 it is asked once for a
new one (`token_after_refusal`, a forced refresh); that retry is the runtime's own, so its
counters, limits and deadline apply. Both calls may block (a store, EVE SSO): async calls make
them in a worker thread. `cache_principal` says whose data an answer is, so authenticated
answers are cached per principal (application and character).

Any other `httpx2.Auth` still works: it is given each request as it is sent (the call's
`TokenRequest` is in `request.extensions[CALL_EXTENSION]`); unless it also implements
`PrincipalAuth`, its authenticated answers are never cached (the runtime cannot know whose
token it sent), and a 401 is raised as it came.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from attrs import frozen

if TYPE_CHECKING:
    from esi_client._operation import Operation

CALL_EXTENSION = "esi_call"  # a request's extension holding its TokenRequest, for an httpx2.Auth


class AccessToken(Protocol):
    """A token as the runtime uses it: whose it is, and the bearer string it sends."""

    @property
    def character_id(self) -> int: ...

    @property
    def client_id(self) -> str: ...

    @property
    def access_token(self) -> str: ...


@frozen
class TokenRequest:
    """What an authenticated call needs a token for."""

    operation: Operation
    character_id: int | None  # the view's character, else the path's; None: not known
    given: AccessToken | None = None  # the caller's own token (client.with_token): send it


@runtime_checkable
class PrincipalAuth(Protocol):
    def cache_principal(self, character_id: int | None) -> str | None:
        """Who an authenticated call for `character_id` is made as (application and character),
        or None when the auth cannot say: the answer is then not cached."""
        ...


@runtime_checkable
class TokenProvider(PrincipalAuth, Protocol):
    def token_for(self, request: TokenRequest) -> AccessToken:
        """The token to send (chosen by the operation's scopes, fresh for a while yet)."""
        ...

    def token_after_refusal(self, request: TokenRequest, refused: AccessToken) -> AccessToken:
        """A new token after ESI answered 401 to `refused` (a refresh, even if it looked valid)."""
        ...
