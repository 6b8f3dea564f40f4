"""Typed errors of esi_auth. None of them carries a token or secret in its message."""

from __future__ import annotations

from esi_client.errors import ESIError


class AuthError(ESIError):
    """Base of every esi_auth error; an ESIError, so `except ESIError` catches a call's every failure."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class TokenValidationError(AuthError):
    """An access token (JWT) was rejected; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"access token rejected: {reason}")
        self.reason = reason


class SSOError(AuthError):
    """EVE SSO answered with an error."""

    def __init__(self, status: int, error: str, description: str = "") -> None:
        if status == 0:  # nothing came back: `description` says why
            message = f"EVE SSO: no answer ({description or error})"
        else:
            message = f"EVE SSO: HTTP {status} {error}" + (f": {description}" if description else "")
        super().__init__(message)
        self.status, self.error, self.description = status, error, description

    @property
    def transient(self) -> bool:
        """A 5xx or a network failure: keep the token and try later."""
        return self.status >= 500 or self.status == 0


class InvalidGrantError(SSOError):
    """The refresh token is revoked, expired or reused: the token is dead."""


class LoginError(AuthError):
    """A login callback was refused (unknown, reused or expired state; an SSO error)."""


class NoTokenError(AuthError):
    """No stored token for the character has the scopes an operation needs."""

    def __init__(
        self, character_id: int | None, scopes: tuple[str, ...], operation_id: str | None = None
    ) -> None:
        where = f"{operation_id}: " if operation_id else ""
        if character_id is None:
            message = (
                f"{where}this call names no character, so no token can be chosen: call it with "
                "client.for_character(character_id) (corporation and alliance routes have no "
                "character in their path)"
            )
        else:
            message = (
                f"{where}no stored token for character {character_id} with scopes "
                f"{', '.join(scopes) or '(none)'}; log in with those scopes (`esi login --scopes ...`)"
            )
        super().__init__(message)
        self.character_id, self.scopes, self.operation_id = character_id, scopes, operation_id
