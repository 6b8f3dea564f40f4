"""Typed exceptions for every way an ESI call fails. Each names the operation."""

from __future__ import annotations


class ESIError(Exception):
    """Base of every esi_client error; `operation_id` names the ESI operation."""

    def __init__(self, message: str, *, operation_id: str | None = None) -> None:
        super().__init__(f"{operation_id}: {message}" if operation_id else message)
        self.operation_id = operation_id


class ConfigurationError(ESIError):
    """The client was set up wrongly (for example, no contact for the User-Agent)."""


class ESIResponseError(ESIError):
    """ESI answered with an error status.

    Carries the HTTP status, ESI's error text and the request id (X-Request-Id, when sent),
    which is what CCP asks for when reporting a problem.
    """

    def __init__(
        self,
        *,
        operation_id: str,
        status: int,
        error: str,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        detail = f"HTTP {status}: {error}" + (f" (request id {request_id})" if request_id else "")
        super().__init__(detail, operation_id=operation_id)
        self.status = status
        self.error = error
        self.request_id = request_id
        self.retry_after = retry_after


class BadRequestError(ESIResponseError):
    """400: ESI rejected the arguments."""


class UnauthorizedError(ESIResponseError):
    """401: the access token is missing, expired or invalid."""


class ForbiddenError(ESIResponseError):
    """403: the token lacks a scope or the character lacks a corporation role."""


class NotFoundError(ESIResponseError):
    """404: no such entity."""


class ErrorLimitedError(ESIResponseError):
    """420: the per-IP error budget is spent; ESI refuses calls until the window resets."""


class RateLimitedError(ESIResponseError):
    """429: the route group's rate limit is spent; `retry_after` says for how long."""


class ServerError(ESIResponseError):
    """5xx: ESI or a service behind it failed; usually transient."""


class BadResponseError(ESIError):
    """A 2xx response whose body is not what the spec describes (malformed JSON, wrong field)."""

    def __init__(self, message: str, *, operation_id: str, field: str | None = None) -> None:
        super().__init__(message, operation_id=operation_id)
        self.field = field


class TransportError(ESIError):
    """No answer from ESI: a timeout or a connection error, after the retries ran out."""


_BY_STATUS: dict[int, type[ESIResponseError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    420: ErrorLimitedError,
    429: RateLimitedError,
}


def error_for_status(status: int) -> type[ESIResponseError]:
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ESIResponseError)
