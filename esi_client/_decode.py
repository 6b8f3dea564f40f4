"""Turn a 2xx body into the operation's typed result, or one clear BadResponseError."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from esi_client._operation import Operation
from esi_client.errors import BadResponseError

T = TypeVar("T")
Parser = Callable[[Any], T]


def decode_json(operation: Operation, content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise BadResponseError(
            f"response body is not valid JSON ({exc})", operation_id=operation.id
        ) from None


def parse_body(operation: Operation, parse: Parser[T], data: Any) -> T:
    """Run the generated parser, turning its failures into a BadResponseError naming the field."""
    try:
        return parse(data)
    except KeyError as exc:
        field = str(exc.args[0]) if exc.args else "?"
        raise BadResponseError(
            f"response lacks the required field {field!r}", operation_id=operation.id, field=field
        ) from None
    except (TypeError, ValueError, AttributeError) as exc:
        named = _field_from_message(str(exc))
        where = f" in field {named!r}" if named else ""
        raise BadResponseError(
            f"response does not match the spec{where}: {exc}", operation_id=operation.id, field=named
        ) from None


def _field_from_message(message: str) -> str | None:
    match = re.search(r"'([A-Za-z_][A-Za-z0-9_]*)'", message)
    return match.group(1) if match else None
