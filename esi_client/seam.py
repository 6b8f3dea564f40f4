"""The contract between esi_client and an auth layer (esi_auth, or your own httpx2.Auth).

The runtime puts these extensions on every request of an authenticated operation; an auth
reads them to choose the token. An auth that also implements `PrincipalAuth` tells the runtime
whose data an answer is, so authenticated answers can be cached per principal; with any other
auth they are never cached (the runtime cannot know whose token was sent).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

OPERATION_EXTENSION = "esi_operation"  # the Operation being called
CHARACTER_EXTENSION = "esi_character"  # the character the call is for (int), or None
TOKEN_EXTENSION = "esi_token"  # noqa: S105 (an extension name): a token chosen by the caller


@runtime_checkable
class PrincipalAuth(Protocol):
    def cache_principal(self, character_id: int | None) -> str | None:
        """Who an authenticated call for `character_id` is made as (application and character),
        or None when the auth cannot say: the answer is then not cached."""
        ...
