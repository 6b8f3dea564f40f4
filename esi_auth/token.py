"""A stored token. Its secrets never appear in repr, str or logs, and are read from their store
(the keyring, perhaps) only when used: listing or choosing tokens does not touch them."""

from __future__ import annotations

import time
from collections.abc import Callable

from attrs import define, field

from esi_auth.scopes import normalise_scopes
from esi_auth.secret import masked

SecretLoader = Callable[[str], str | None]  # "access" or "refresh" -> the secret


@define
class Token:
    character_id: int
    character_name: str
    owner_hash: str
    scopes: tuple[str, ...] = field(converter=normalise_scopes)
    client_id: str
    _access_token: str | None = field(repr=False, eq=False, alias="access_token")
    _refresh_token: str | None = field(repr=False, eq=False, alias="refresh_token")
    expires_at: float
    created_at: float = field(factory=time.time)
    updated_at: float = field(factory=time.time)
    id: int | None = None
    owner: str | None = None  # the site's user id the token belongs to (web apps); None: nobody's
    _load_secret: SecretLoader | None = field(default=None, repr=False, eq=False, alias="load_secret")
    _loaded: set[str] = field(factory=set, repr=False, eq=False, init=False)

    def _secret(self, kind: str, value: str | None) -> str | None:
        if self._load_secret is not None and kind not in self._loaded:
            self._loaded.add(kind)
            value = self._load_secret(kind)
            setattr(self, f"_{kind}_token", value)
        return value

    @property
    def access_token(self) -> str:
        return masked(self._secret("access", self._access_token) or "")

    @access_token.setter
    def access_token(self, value: str) -> None:
        self._loaded.add("access")
        self._access_token = value

    @property
    def refresh_token(self) -> str | None:
        return masked(self._secret("refresh", self._refresh_token))

    @refresh_token.setter
    def refresh_token(self, value: str | None) -> None:
        self._loaded.add("refresh")
        self._refresh_token = value

    def expires_within(self, seconds: float, now: float | None = None) -> bool:
        return self.expires_at - seconds <= (time.time() if now is None else now)

    def has_scopes(self, scopes: tuple[str, ...]) -> bool:
        return set(scopes) <= set(self.scopes)

    def __str__(self) -> str:
        return f"{self.character_name} ({self.character_id}), {len(self.scopes)} scopes"
