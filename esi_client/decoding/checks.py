"""Checked decoding for the generated `from_dict` code: every value matches its spec type.

The generated models call these for each field. A value of the wrong type raises `WrongType`,
which collects the JSON path on its way out (`[3].price`) and becomes one BadResponseError.
`number` is always a float and `integer` always an int, whatever literal ESI wrote (it writes
whole doubles as `31000000`); the fast msgspec path decodes to the same types. Unknown enum
values and unknown keys are not errors: CCP adds both within a compatibility date. They are
kept, counted in `client.stats` and logged once each.
"""

from __future__ import annotations

import datetime
import logging
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from esi_client._operation import Operation
    from esi_client.stats import ClientStats

T = TypeVar("T")
logger = logging.getLogger("esi_client")


class UnknownEnumValue(str):
    """An enum value the spec this client was generated from does not list (CCP added it).

    It is the string ESI sent; compare it as one. `isinstance(value, UnknownEnumValue)` tells a
    new value from the known ones that the field's Literal type lists.
    """

    __slots__ = ()


class WrongType(Exception):
    """A value that does not match its spec type; `parts` is its JSON path, innermost first."""

    def __init__(self, value: object, expected: str, segment: str = "") -> None:
        super().__init__(expected)
        self.value, self.expected = value, expected
        self.parts: list[str] = [segment] if segment else []

    @property
    def path(self) -> str:
        text = ""
        for part in reversed(self.parts):
            text += part if part.startswith("[") else (f".{part}" if text else part)
        return text


_MISSING = object()


def located(exc: WrongType | KeyError, *parts: str | int) -> WrongType:
    """The error with `parts` (outermost last) added to its path; a KeyError from a nested
    `from_dict` is a missing required field."""
    if isinstance(exc, KeyError):
        name = str(exc.args[0]) if exc.args else "?"
        exc = WrongType(_MISSING, "a required field", name)
    for part in parts:
        if isinstance(part, int):
            exc.parts.append(f"[{part}]")
        elif part:
            exc.parts.append(part)
    return exc


def integer(value: Any, segment: str = "") -> int:
    if type(value) is int:
        return value
    raise WrongType(value, "integer", segment)


def number(value: Any, segment: str = "") -> float:
    kind = type(value)
    if kind is float:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return float(value)
    raise WrongType(value, "number", segment)


def string(value: Any, segment: str = "") -> str:
    if type(value) is str:
        return value
    raise WrongType(value, "string", segment)


def boolean(value: Any, segment: str = "") -> bool:
    if type(value) is bool:
        return value
    raise WrongType(value, "boolean", segment)


def date_time(value: Any, segment: str = "") -> datetime.datetime:
    if type(value) is str:
        try:
            return datetime.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise WrongType(value, "date-time string", segment)


def date(value: Any, segment: str = "") -> datetime.date:
    if type(value) is str:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise WrongType(value, "date string", segment)


def uuid_value(value: Any, segment: str = "") -> uuid.UUID:
    if type(value) is str:
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise WrongType(value, "uuid string", segment)


def array(value: Any, segment: str = "") -> list[Any]:
    if type(value) is list:
        return value
    raise WrongType(value, "array", segment)


def scalars(value: Any, check: Callable[[Any, str], T], segment: str = "") -> list[T]:
    """A list of scalars, each checked (numbers become floats)."""
    items = array(value, segment)
    try:
        return [check(item, "") for item in items]
    except WrongType as exc:
        index = next(i for i, item in enumerate(items) if _fails(check, item))
        raise located(exc, index, segment) from None


def _fails(check: Callable[[Any, str], object], item: object) -> bool:
    try:
        check(item, "")
    except WrongType:
        return True
    return False


def model(cls: Callable[[Mapping[str, Any]], T], value: Any, segment: str = "") -> T:
    """A nested model: the value must be an object; errors inside it get this field's name."""
    if type(value) is not dict:
        raise WrongType(value, "object", segment)
    try:
        return cls(value)
    except (WrongType, KeyError) as exc:
        raise located(exc, segment) from None


def choose(value: Any, members: Sequence[Any], segment: str = "") -> Any:
    """The union member (a model class) whose fields fit the keys of `value` best: all its
    required keys present, then the most keys it names, then no keys it does not name."""
    if type(value) is not dict:
        raise WrongType(value, "object", segment)
    keys = value.keys()
    best, best_score = None, None
    for index, member in enumerate(members):
        required, known = member._esi_keys
        if not required <= keys:
            continue
        score = (len(keys & known), -len(keys - known), -index)
        if best_score is None or score > best_score:
            best, best_score = member, score
    if best is None:
        expected = " or ".join(member.__name__ for member in members)
        raise WrongType(value, f"an object matching {expected}", segment)
    return best


# -- unknown enum values and keys: counted and logged once, never raised ------------------------

DECODING: ContextVar[tuple[Operation, ClientStats | None] | None] = ContextVar("esi_decoding", default=None)
_reported: set[tuple[str, str, str]] = set()
_reported_lock = threading.Lock()
_REPORTED_MAX = 10_000  # a server sending endless new values must not grow memory for ever


def _first_time(operation_id: str, where: str, what: str) -> bool:
    key = (operation_id, where, what)
    with _reported_lock:
        if key in _reported or len(_reported) >= _REPORTED_MAX:
            return False
        _reported.add(key)
        return True


def unknown_enum(value: Any, enum_name: str, segment: str = "") -> UnknownEnumValue:
    """A value an enum field's spec does not list: kept as its string, counted, logged once."""
    if type(value) is not str:
        raise WrongType(value, f"string ({enum_name})", segment)
    context = DECODING.get()
    operation_id = context[0].id if context else "?"
    if context and context[1] is not None:
        context[1].add("unknown_enum_values")
    if _first_time(operation_id, enum_name, value):
        logger.warning(
            "%s: ESI sent %r, a value %s does not list (CCP adds enum values; it is kept as a string)",
            operation_id,
            value,
            enum_name,
        )
    return UnknownEnumValue(value)


def unknown_keys(model_name: str, keys: Sequence[str]) -> None:
    """Keys an object's spec does not name (kept in additional_properties): counted, logged once."""
    context = DECODING.get()
    operation_id = context[0].id if context else "?"
    if context and context[1] is not None:
        context[1].add("unknown_keys", len(keys))
    for key in keys:
        if _first_time(operation_id, model_name, key):
            logger.info(
                "%s: ESI sent the key %r, which %s does not name (kept)", operation_id, key, model_name
            )
