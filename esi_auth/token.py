"""A stored token. Its secrets never appear in repr, str or logs."""

from __future__ import annotations

import time

from attrs import define, field

from esi_auth.scopes import normalise_scopes


@define
class Token:
    character_id: int
    character_name: str
    owner_hash: str
    scopes: tuple[str, ...] = field(converter=normalise_scopes)
    client_id: str
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: float
    created_at: float = field(factory=time.time)
    updated_at: float = field(factory=time.time)
    id: int | None = None

    def expires_within(self, seconds: float, now: float | None = None) -> bool:
        return self.expires_at - seconds <= (time.time() if now is None else now)

    def has_scopes(self, scopes: tuple[str, ...]) -> bool:
        return set(scopes) <= set(self.scopes)

    def __str__(self) -> str:
        return f"{self.character_name} ({self.character_id}), {len(self.scopes)} scopes"
