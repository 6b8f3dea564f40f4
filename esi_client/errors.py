"""Typed exceptions for every way an ESI call fails. Each names the operation.

`ESIError` is the one base: esi_auth's errors (no token, SSO refused) derive from it too, so
`except ESIError` catches every failure of a call.
"""

from __future__ import annotations

from collections.abc import Mapping


class ESIError(Exception):
    """Base of every esikit error; `operation_id` names the ESI operation when there is one."""

    def __init__(self, message: str, *, operation_id: str | None = None) -> None:
        super().__init__(f"{operation_id}: {message}" if operation_id else message)
        self.operation_id = operation_id


class ConfigurationError(ESIError):
    """The client was set up wrongly (for example, no contact for the User-Agent)."""


class InvalidArgumentError(ESIError, ValueError):
    """An argument the spec refuses (a value outside its enum, range or pattern): nothing was sent.

    `parameter` is the spec's name for it, `value` what was given and `expected` what the spec
    allows. A ValueError too, so the CLI answers it with exit status 2.
    """

    def __init__(
        self, message: str, *, operation_id: str, parameter: str, value: object, expected: str
    ) -> None:
        super().__init__(message, operation_id=operation_id)
        self.parameter = parameter
        self.value = value
        self.expected = expected


class ESIResponseError(ESIError):
    """ESI answered with an error status.

    Carries the HTTP status, ESI's error text and the request id (X-Request-Id, when sent),
    which is what CCP asks for when reporting a problem. `retry_after` is the seconds ESI asked
    to wait (429, 420), when it said. `headers` and `body` are ESI's answer as it came (empty
    when the request was refused here), for a caller that forwards it (`esi proxy`).
    """

    def __init__(
        self,
        *,
        operation_id: str,
        status: int,
        error: str,
        request_id: str | None = None,
        retry_after: float | None = None,
        sent: bool = True,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        if sent:
            detail = f"HTTP {status}: {error}" + (f" (request id {request_id})" if request_id else "")
        else:  # refused here, before ESI could answer `status`
            detail = f"not sent: {error}"
        super().__init__(detail, operation_id=operation_id)
        self.status = status
        self.error = error
        self.request_id = request_id
        self.retry_after = retry_after
        self.sent = sent
        self.headers: Mapping[str, str] = headers or {}
        self.body = body


class BadRequestError(ESIResponseError):
    """400: ESI rejected the arguments."""


class UnauthorizedError(ESIResponseError):
    """401: the access token is missing, expired or invalid."""


class ForbiddenError(ESIResponseError):
    """403: the token lacks a scope or the character lacks a corporation role."""


class NotFoundError(ESIResponseError):
    """404: no such entity."""


class ErrorLimitedError(ESIResponseError):
    """420, or refused locally: the per-IP error budget is spent until `retry_after` seconds
    from now, longer than the client may wait (`max_wait`)."""


class RateLimitedError(ESIResponseError):
    """429, or refused locally: the route group's rate limit is spent; `retry_after` says for
    how long, longer than the client may wait (`max_wait`) or than its retries allow."""


class ServerError(ESIResponseError):
    """5xx: ESI or a service behind it failed; usually transient."""


class BadResponseError(ESIError):
    """A 2xx response whose body is not what the spec describes.

    `path` locates the bad value in the JSON (`[3].price`; empty for the whole body), `value` is
    what was found (cut short) and `expected` what the spec promised. `field` is the last name
    in the path (kept for older callers).
    """

    def __init__(
        self,
        message: str,
        *,
        operation_id: str,
        path: str | None = None,
        value: object = None,
        expected: str | None = None,
    ) -> None:
        super().__init__(message, operation_id=operation_id)
        self.path = path
        self.value = value
        self.expected = expected

    @property
    def field(self) -> str | None:
        if not self.path:
            return None
        last = self.path.rsplit(".", 1)[-1]
        return last.split("[", 1)[0] or None


class ResponseTooLargeError(BadResponseError):
    """The body (after decompression) is larger than the client's `max_body_bytes`."""


class TransportError(ESIError):
    """No answer from ESI: a timeout or a connection error, after the retries ran out."""


class DeadlineExceededError(TransportError):
    """The call's deadline (every attempt and every wait together) passed before it finished."""


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
