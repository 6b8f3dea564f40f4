"""Strict like ESI: a request whose parameters or body do not match the spec is a 400, counted in
the error limit, so a client's bad requests fail in tests as they would in production.

Checked with `jsonschema` (JSON Schema 2020-12, OpenAPI 3.1's dialect) against the operation's
own schemas; parameters arrive as text and are read as their schema's type first."""

from __future__ import annotations

import decimal
import json
import re
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from esi_generator.validate import resolve_ref

FIRST_COMPATIBILITY_DATE = "2020-01-01"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")

FORMATS = FormatChecker()


# JSON Schema counts 9.3e18 as an integer too: the range applies to every number.
@FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int | float) or -(2**31) <= value < 2**31


@FORMATS.checks("int64")
def _int64(value: object) -> bool:
    return not isinstance(value, int | float) or -(2**63) <= value < 2**63


@dataclass(frozen=True)
class ParameterRule:
    name: str
    location: str  # path | query | header
    required: bool
    schema: dict[str, Any]
    validator: Draft202012Validator = field(compare=False, repr=False)


@dataclass(frozen=True)
class BodyRule:
    required: bool
    validator: Draft202012Validator = field(compare=False, repr=False)


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    # The spec's components ride along in the root, so `#/components/...` references resolve.
    return Draft202012Validator({**schema, "components": spec.get("components", {})}, format_checker=FORMATS)


def parameter_rules(spec: dict[str, Any], operation: dict[str, Any]) -> tuple[ParameterRule, ...]:
    rules = []
    for raw in operation.get("parameters", []):
        parameter = resolve_ref(spec, raw)
        schema = resolve_ref(spec, parameter.get("schema", {}))
        rules.append(
            ParameterRule(
                parameter["name"],
                parameter["in"],
                bool(parameter.get("required")),
                schema,
                _validator(spec, schema),
            )
        )
    return tuple(rules)


def body_rule(spec: dict[str, Any], operation: dict[str, Any]) -> BodyRule | None:
    body = operation.get("requestBody")
    if body is None:
        return None
    body = resolve_ref(spec, body)
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    return BodyRule(bool(body.get("required")), _validator(spec, schema))


def check_request(
    rules: tuple[ParameterRule, ...],
    body: BodyRule | None,
    path_params: dict[str, str],
    query: Any,
    headers: Any,
    raw_body: bytes,
    newest_date: str,
) -> str | None:
    """Why the request is bad (one sentence), or None."""
    for rule in rules:
        problem = _check_parameter(rule, path_params, query, headers, newest_date)
        if problem is not None:
            return problem
    return None if body is None else _check_body(body, raw_body)


def _check_parameter(
    rule: ParameterRule, path_params: dict[str, str], query: Any, headers: Any, newest_date: str
) -> str | None:
    if rule.location == "header" and rule.name.lower() == "accept-language":
        return None  # a preference, not a filter (RFC 9110 §12.5.4): `*`, `en-US,en;q=0.9` choose
    if rule.location == "header" and rule.name.lower() == "x-compatibility-date":
        return _check_compatibility_date(headers.get(rule.name), newest_date)
    if rule.location == "path":
        values = [path_params[rule.name]] if rule.name in path_params else []
    elif rule.location == "query":
        values = query.getlist(rule.name)
    elif rule.location == "header":
        values = headers.getlist(rule.name)
    else:
        return None
    if not values:
        return f"the required {rule.location} parameter {rule.name!r} is missing" if rule.required else None
    problem = _first_error(rule.validator, _read_parameter(values, rule.schema))
    return None if problem is None else f"{rule.location} parameter {rule.name!r}: {problem}"


def _check_body(body: BodyRule, raw_body: bytes) -> str | None:
    if not raw_body.strip():
        return "the request body is missing" if body.required else None
    try:
        # the standard library keeps big integers whole (orjson makes them floats, and
        # -2**63 - 1 would pass as -2**63)
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        return "the request body is not JSON"
    problem = _first_error(body.validator, data)
    return None if problem is None else f"request body: {problem}"


def _check_compatibility_date(value: str | None, newest_date: str) -> str | None:
    # A missing date is not an error at ESI (it serves the oldest behaviour); the fake serves
    # its one spec. Any published date up to the newest is accepted, as ESI accepts it.
    if value is None:
        return None
    if not _DATE.fullmatch(value) or not FIRST_COMPATIBILITY_DATE <= value <= newest_date:
        dates = f"{FIRST_COMPATIBILITY_DATE}..{newest_date}"
        return f"X-Compatibility-Date {value[:40]!r} is not a published date ({dates})"
    return None


def _read_parameter(values: list[str], schema: dict[str, Any]) -> Any:
    """The parameter's text read as its schema's type; text that does not read stays text, for
    the validator to name."""
    if schema.get("type") == "array":
        # OpenAPI's default for query arrays repeats the name; ESI also takes commas.
        items = [part for value in values for part in (value.split(",") if "," in value else [value])]
        return [_read_scalar(item, schema.get("items", {})) for item in items]
    return _read_scalar(values[-1], schema)


def _read_scalar(text: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer" and _INTEGER.fullmatch(text):
        return int(text)
    if kind == "integer" and _NUMBER.fullmatch(text):
        # JSON Schema's integers include 7.0: a number without a fraction (exact, as Decimal)
        number = decimal.Decimal(text)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "number" and _NUMBER.fullmatch(text):
        return float(text)
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def _first_error(validator: Draft202012Validator, value: Any) -> str | None:
    error: ValidationError | None = next(iter(validator.iter_errors(value)), None)
    if error is None:
        return None
    where = "".join(f"[{part!r}]" for part in error.absolute_path)
    return f"{where} {error.message}".strip()[:300]
