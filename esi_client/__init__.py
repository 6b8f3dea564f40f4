"""esikit's typed ESI client.

    from esi_client import ESIClient
    from esi_client.api.status import get_status

    with ESIClient(app_name="my-app", contact="me@example.com") as client:
        print(get_status.sync(client=client).players)

Names load on first use, so importing one operation does not import the HTTP stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from esi_client._client import ESIClient
    from esi_client._operation import Operation, Parameter, RateLimit
    from esi_client.errors import (
        BadRequestError,
        BadResponseError,
        ConfigurationError,
        ErrorLimitedError,
        ESIError,
        ESIResponseError,
        ForbiddenError,
        NotFoundError,
        RateLimitedError,
        ServerError,
        TransportError,
        UnauthorizedError,
    )
    from esi_client.types import UNSET, Response, Unset

_EXPORTS = {
    "ESIClient": "esi_client._client",
    "Operation": "esi_client._operation",
    "Parameter": "esi_client._operation",
    "RateLimit": "esi_client._operation",
    "Response": "esi_client.types",
    "UNSET": "esi_client.types",
    "Unset": "esi_client.types",
    **{
        name: "esi_client.errors"
        for name in (
            "BadRequestError",
            "BadResponseError",
            "ConfigurationError",
            "ESIError",
            "ESIResponseError",
            "ErrorLimitedError",
            "ForbiddenError",
            "NotFoundError",
            "RateLimitedError",
            "ServerError",
            "TransportError",
            "UnauthorizedError",
        )
    },
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'esi_client' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
