"""esikit's typed ESI client.

    from esi_client import ESIClient
    from esi_client.api.status import get_status

    with ESIClient(app_name="my-app", contact="me@example.com") as client:
        print(get_status.sync(client=client).players)

Names load on first use, so importing one operation does not import the HTTP stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from esi_client._lazy import lazy_attributes

if TYPE_CHECKING:
    from esi_client._operation import Operation, Parameter, RateLimit
    from esi_client.client.client import ESIClient
    from esi_client.errors import (
        BadRequestError,
        BadResponseError,
        ConfigurationError,
        DeadlineExceededError,
        ErrorLimitedError,
        ESIError,
        ESIResponseError,
        ForbiddenError,
        InvalidArgumentError,
        NotFoundError,
        RateLimitedError,
        ResponseTooLargeError,
        ServerError,
        TransportError,
        UnauthorizedError,
    )
    from esi_client.runtime.records import RetryPolicy
    from esi_client.shared_limits import RedisLimits
    from esi_client.types import UNSET, Response, Unset

__all__ = [
    "UNSET",
    "BadRequestError",
    "BadResponseError",
    "ConfigurationError",
    "DeadlineExceededError",
    "ESIClient",
    "ESIError",
    "ESIResponseError",
    "ErrorLimitedError",
    "ForbiddenError",
    "InvalidArgumentError",
    "NotFoundError",
    "Operation",
    "Parameter",
    "RateLimit",
    "RateLimitedError",
    "RedisLimits",
    "ResponseTooLargeError",
    "Response",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "UnauthorizedError",
    "Unset",
]

_HOME = {
    "ESIClient": "esi_client.client.client",
    "RetryPolicy": "esi_client.runtime.records",
    "RedisLimits": "esi_client.shared_limits",
    "Operation": "esi_client._operation",
    "Parameter": "esi_client._operation",
    "RateLimit": "esi_client._operation",
    "Response": "esi_client.types",
    "UNSET": "esi_client.types",
    "Unset": "esi_client.types",
}
_HOME.update({name: "esi_client.errors" for name in __all__ if name not in _HOME})

__getattr__, __dir__ = lazy_attributes(globals(), _HOME)
