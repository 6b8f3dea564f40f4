"""Hypothesis strategies for the JSON Schema subset CCP's ESI spec uses.

hypothesis-jsonschema 0.23.1 (its last release) fails against current hypothesis, so the
suite builds its own: objects with properties/required/additionalProperties, arrays
(min/maxItems, uniqueItems), scalars with enum/format/minimum/maximum/length, oneOf/anyOf,
type lists with "null" and local $refs. Objects may get extra keys, as ESI may add fields.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

from hypothesis import strategies as st

FORMATS: dict[str, st.SearchStrategy[str]] = {
    "date-time": st.datetimes(
        min_value=datetime.datetime(2003, 5, 6),
        max_value=datetime.datetime(2040, 1, 1),
        timezones=st.just(datetime.UTC),
    ).map(lambda moment: moment.isoformat().replace("+00:00", "Z")),
    "date": st.dates(min_value=datetime.date(2003, 5, 6), max_value=datetime.date(2040, 1, 1)).map(
        datetime.date.isoformat
    ),
    "uuid": st.uuids().map(str),
}
EXTRA_KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=8).map(
    lambda key: f"x_{key}"
)
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


def from_schema(schema: Any, document: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    schema = _resolve(schema, document)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema:
            return st.one_of([from_schema(member, document, depth + 1) for member in schema[keyword]])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": k}, document, depth) for k in kind])
    if kind in ("null", "boolean", "integer", "number"):
        return _scalar(kind, schema)
    if kind == "string":
        if schema.get("format") in FORMATS:
            return FORMATS[schema["format"]]
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 12), 12))
    if kind == "array":
        items = from_schema(schema.get("items", {}), document, depth + 1)
        max_size = min(schema.get("maxItems", 3), 3 if depth < 4 else 1)
        min_size = min(schema.get("minItems", 0), max_size)
        return st.lists(
            items, min_size=min_size, max_size=max_size, unique_by=_key if schema.get("uniqueItems") else None
        )
    return _object(schema, document, depth)


def _scalar(kind: str, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low, high = INT32 if schema.get("format") == "int32" else INT64
        return st.integers(min_value=schema.get("minimum", low), max_value=schema.get("maximum", high))
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    floats = st.floats(min_value=minimum, max_value=maximum, allow_nan=False, allow_infinity=False)
    # ESI writes whole doubles as integer literals (31000000), some beyond 2^53.
    whole = st.integers(
        min_value=math.ceil(minimum) if minimum is not None else -(2**60),
        max_value=math.floor(maximum) if maximum is not None else 2**60,
    )
    return st.one_of(floats, whole)


def _object(
    schema: dict[str, Any], document: dict[str, Any], depth: int
) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties") or {}
    required = [name for name in schema.get("required", []) if name in properties]
    optional = [name for name in properties if name not in required]
    fixed = st.fixed_dictionaries(
        {name: from_schema(properties[name], document, depth + 1) for name in required},
        optional={name: from_schema(properties[name], document, depth + 1) for name in optional},
    )
    additional = schema.get("additionalProperties")
    if additional is False:
        return fixed
    values = (
        from_schema(additional, document, depth + 1) if isinstance(additional, dict) else st.integers(0, 9)
    )
    keys = EXTRA_KEYS.filter(lambda key: key not in properties)
    extras = st.dictionaries(keys, values, max_size=2 if isinstance(additional, dict) else 1)
    return st.tuples(fixed, extras).map(lambda pair: {**pair[1], **pair[0]})


def _resolve(schema: Any, document: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema, dict) and "$ref" in schema:
        node: Any = document
        for part in schema["$ref"][2:].split("/"):
            node = node[part]
        schema = node
    return schema if isinstance(schema, dict) else {}


def _key(value: Any) -> Any:
    return repr(value)
