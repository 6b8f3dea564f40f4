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

    @classmethod
    def found_here(cls, description: str) -> InvalidGrantError:
        """Dead for a reason esikit found itself, not EVE SSO's answer (the token deleted, no
        refresh token, a new owner): the same status and code as SSO's refusal, for callers
        that check them, and a message that does not put it in SSO's mouth."""
        error = cls(400, "invalid_grant", description)
        error.args = (f"the token cannot be refreshed: {description}",)
        return error


class TokenRevokedError(InvalidGrantError):
    """EVE SSO refused a stored token's refresh token (revoked, expired or replayed): the token
    was removed from the store. Says whose it was, which call needed it and how to log in again."""

    def __init__(
        self,
        cause: SSOError,
        *,
        character_id: int,
        character_name: str,
        scopes: tuple[str, ...],
        operation_id: str | None = None,
    ) -> None:
        reason = cause.error + (f": {cause.description}" if cause.description else "")
        wanted = " ".join(scopes)
        where = f"{operation_id}: " if operation_id else ""
        AuthError.__init__(
            self,
            f"{where}EVE SSO refused the token of {character_name} ({character_id}) ({reason}); "
            f"it was removed from the store. Log in again: `esi login --scopes {wanted}` or "
            f"app.login_with_browser({list(scopes)!r})",
        )
        self.status, self.error, self.description = cause.status, cause.error, cause.description
        self.character_id, self.character_name, self.scopes = character_id, character_name, scopes
        self.operation_id = operation_id

    def for_operation(self, operation_id: str) -> TokenRevokedError:
        """The same refusal, naming the call that needed the token."""
        cause = SSOError(self.status, self.error, self.description)
        return TokenRevokedError(
            cause,
            character_id=self.character_id,
            character_name=self.character_name,
            scopes=self.scopes,
            operation_id=operation_id,
        )


class StoreUnavailableError(AuthError):
    """The token store could not be read or written; says which store and why. Transient: the
    token is kept (a refresh answer already received is kept in the spill file)."""

    transient = True


class LoginError(AuthError):
    """A login callback was refused (unknown, reused or expired state; an SSO error).

    `start_again`: the login itself is spent (its state unknown or used, too old, or its code
    refused by EVE SSO): the user can only start a new one."""

    def __init__(self, message: str, *, start_again: bool = False) -> None:
        super().__init__(message)
        self.start_again = start_again


class NoTokenError(AuthError):
    """No stored token for the character has the scopes an operation needs."""

    def __init__(
        self,
        character_id: int | None,
        scopes: tuple[str, ...],
        operation_id: str | None = None,
        *,
        lacking: tuple[str, ...] = (),
    ) -> None:
        where = f"{operation_id}: " if operation_id else ""
        wanted = " ".join(scopes)
        if character_id is None:
            message = (
                f"{where}this call names no character, so no token can be chosen: call it with "
                "client.for_character(character_id) (corporation and alliance routes have no "
                "character in their path)"
            )
        elif lacking:
            message = (
                f"{where}character {character_id}'s stored token lacks the "
                f"scope{'s' if len(lacking) > 1 else ''} {', '.join(lacking)}; log in again with the "
                f"scopes the call needs: `esi login --scopes {wanted}`"
            )
        else:
            message = (
                f"{where}no stored token for character {character_id}; log in with the "
                f"scope{'s' if len(scopes) > 1 else ''} it needs: `esi login --scopes {wanted}`"
            )
        super().__init__(message)
        self.character_id, self.scopes, self.operation_id = character_id, scopes, operation_id
        self.lacking = lacking
