"""Strict like ESI: a request whose parameters or body do not match the spec is a 400, counted in
the error limit, so a client's bad requests fail in tests as they would in production."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from generator.validate import resolve_ref

FIRST_COMPATIBILITY_DATE = "2020-01-01"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class ParameterRule:
    name: str
    location: str  # path | query | header
    required: bool
    schema: dict[str, Any]


def parameter_rules(spec: dict[str, Any], operation: dict[str, Any]) -> tuple[ParameterRule, ...]:
    rules = []
    for raw in operation.get("parameters", []):
        parameter = resolve_ref(spec, raw)
        schema = resolve_ref(spec, parameter.get("schema", {}))
        rules.append(
            ParameterRule(parameter["name"], parameter["in"], bool(parameter.get("required")), schema)
        )
    return tuple(rules)


def body_rule(spec: dict[str, Any], operation: dict[str, Any]) -> tuple[bool, dict[str, Any]] | None:
    body = operation.get("requestBody")
    if body is None:
        return None
    body = resolve_ref(spec, body)
    schema = resolve_ref(spec, body.get("content", {}).get("application/json", {}).get("schema", {}))
    return bool(body.get("required")), schema


def check_request(
    rules: tuple[ParameterRule, ...],
    body: tuple[bool, dict[str, Any]] | None,
    path_params: dict[str, str],
    query: Any,
    headers: Any,
    raw_body: bytes,
    newest_date: str,
) -> str | None:
    """Why the request is bad (one sentence), or None."""
    for rule in rules:
        if rule.location == "path":
            value = path_params.get(rule.name)
        elif rule.location == "query":
            value = query.get(rule.name)
        elif rule.name.lower() == "x-compatibility-date":
            value = headers.get("x-compatibility-date")
            if value is not None and (
                not _DATE.fullmatch(value) or not FIRST_COMPATIBILITY_DATE <= value <= newest_date
            ):
                dates = f"{FIRST_COMPATIBILITY_DATE}..{newest_date}"
                return f"X-Compatibility-Date {value!r} is not a published date ({dates})"
            continue
        else:
            continue
        if value is None or value == "":
            if rule.required:
                return f"the required {rule.location} parameter {rule.name!r} is missing"
            continue
        problem = _check_value(value, rule.schema)
        if problem is not None:
            return f"{rule.location} parameter {rule.name!r}: {problem}"
    if body is not None:
        required, schema = body
        if not raw_body.strip():
            return "the request body is missing" if required else None
        try:
            data = orjson.loads(raw_body)
        except orjson.JSONDecodeError:
            return "the request body is not JSON"
        problem = _check_json(data, schema)
        if problem is not None:
            return f"request body: {problem}"
    return None


def _check_value(text: str, schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if kind == "array":
        for item in text.split(","):
            problem = _check_value(item, schema.get("items", {}))
            if problem is not None:
                return problem
        return None
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", text):
            return f"{text[:40]!r} is not an integer"
        number = int(text)
        if "minimum" in schema and number < schema["minimum"]:
            return f"{number} is below the minimum {schema['minimum']}"
        if "maximum" in schema and number > schema["maximum"]:
            return f"{number} is above the maximum {schema['maximum']}"
    if "enum" in schema and text not in [str(value) for value in schema["enum"]]:
        return f"{text[:40]!r} is not one of {', '.join(map(str, schema['enum']))}"
    if schema.get("format") == "uuid":
        try:
            uuid.UUID(text)
        except ValueError:
            return f"{text[:40]!r} is not a UUID"
    return None


def _check_json(data: Any, schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    expected = {"array": list, "object": dict, "string": str, "boolean": bool}.get(str(kind))
    if kind == "integer" and (type(data) is not int):
        return f"{str(data)[:40]!r} is not an integer"
    if expected is not None and not isinstance(data, expected):
        return f"expected {kind}, got {type(data).__name__}"
    if kind == "array":
        if len(data) < schema.get("minItems", 0):
            return f"at least {schema['minItems']} item(s) expected"
        if "maxItems" in schema and len(data) > schema["maxItems"]:
            return f"at most {schema['maxItems']} items expected"
        for item in data:
            problem = _check_json(item, schema.get("items", {}))
            if problem is not None:
                return problem
    if "enum" in schema and data not in schema["enum"]:
        return f"{str(data)[:40]!r} is not an allowed value"
    return None
