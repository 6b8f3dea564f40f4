"""The one reader of CCP's spec for each operation's facts (scopes, roles, paging, cache, rate
limit, parameters), as the runtime's own `Operation` objects: the generator writes their `repr`
into each module, `esi spec diff` compares them, the fake ESI serves by them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from esi_client._operation import Operation, Paging, Parameter, RateLimit
from esi_generator.validate import iter_operations, resolve_ref

_WINDOW_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# operationId -> (tag package, module name, {parameter name: Python name}), as generated.
Naming = Callable[[str, dict[str, Any]], tuple[str, str, dict[str, str]]]


def window_seconds(window: str) -> int:
    match = re.fullmatch(r"(\d+)([smhd])", window.strip())
    if match is None:
        raise ValueError(f"unknown rate-limit window {window!r}")
    return int(match.group(1)) * _WINDOW_UNITS[match.group(2)]


def snake_case(text: str) -> str:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")


def default_naming(operation_id: str, operation: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    """Names as openapi-python-client makes them for CCP's spec (the generator passes the real
    ones; the diff and the fake need only the tag's package)."""
    tags = operation.get("tags") or ["default"]
    return snake_case(str(tags[0])) or "default", snake_case(operation_id), {}


def json_kind(schema: dict[str, Any]) -> str:
    """A schema's JSON type (the first that is not null; object when none is said)."""
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "object")
    return str(kind)


def json_type(spec: dict[str, Any], schema: Any) -> str:
    """The type with an array's items spelled out: `array[integer]`."""
    schema = resolve_ref(spec, schema) or {}
    kind = json_kind(schema)
    if kind == "array":
        return f"array[{json_type(spec, schema.get('items', {}))}]"
    return kind


def paging_of(spec: dict[str, Any], operation: dict[str, Any]) -> Paging | None:
    """CCP's rule: `x-pagination: cursor`, else X-Pages when there is a `page` parameter."""
    if operation.get("x-pagination") == "cursor":
        return "cursor"
    names = {resolve_ref(spec, p).get("name") for p in operation.get("parameters", [])}
    return "page" if "page" in names else None


def _enum(spec: dict[str, Any], schema: Any) -> tuple[str, ...]:
    schema = resolve_ref(spec, schema) or {}
    if schema.get("type") == "array":
        schema = resolve_ref(spec, schema.get("items", {})) or {}
    return tuple(str(value) for value in schema.get("enum", ()))


def _bounds(spec: dict[str, Any], schema: Any) -> dict[str, Any]:
    """minimum, maximum and pattern of a parameter (of its items for an array), and maxItems."""
    schema = resolve_ref(spec, schema) or {}
    bounds: dict[str, Any] = {}
    if schema.get("type") == "array":
        if isinstance(schema.get("maxItems"), int):
            bounds["max_items"] = schema["maxItems"]
        schema = resolve_ref(spec, schema.get("items", {})) or {}
    for key, name in (("minimum", "minimum"), ("maximum", "maximum")):
        value = schema.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            bounds[name] = value
    if isinstance(schema.get("pattern"), str):
        bounds["pattern"] = schema["pattern"]
    return bounds


def _parameters(
    spec: dict[str, Any], operation: dict[str, Any], python_names: dict[str, str]
) -> list[Parameter]:
    parameters = []
    for raw in operation.get("parameters", []):
        parameter = resolve_ref(spec, raw)
        schema = parameter.get("schema", {})
        resolved = resolve_ref(spec, schema) or {}
        description = " ".join(str(parameter.get("description") or resolved.get("description", "")).split())
        name = parameter["name"]
        parameters.append(
            Parameter(
                name=name,
                python_name=python_names.get(name, snake_case(name)),
                location=parameter["in"],
                json_type=json_type(spec, schema),
                # A parameter with a default need not be given (the signature fills it in),
                # whatever the spec's `required` says.
                required=bool(parameter.get("required")) and "default" not in resolved,
                description=description,
                enum=_enum(spec, schema),
                **_bounds(spec, schema),
            )
        )
    body = resolve_ref(spec, operation.get("requestBody"))
    if body:
        schema = body.get("content", {}).get("application/json", {}).get("schema", {})
        parameters.append(
            Parameter(
                name="body",
                python_name="body",
                location="body",
                json_type=json_type(spec, schema),
                required=bool(body.get("required")),
                description=str(body.get("description", "")),
            )
        )
    return parameters


def read_operations(spec: dict[str, Any], naming: Naming = default_naming) -> dict[str, Operation]:
    """Every operation's facts, keyed by operationId, in the spec's order."""
    result: dict[str, Operation] = {}
    for path, method, operation in iter_operations(spec):
        operation_id = operation["operationId"]
        tag, module, python_names = naming(operation_id, operation)
        limit = operation.get("x-rate-limit")
        result[operation_id] = Operation(
            id=operation_id,
            python_name=module,
            module=f"esi_client.api.{tag}.{module}",
            tag=tag,
            method=method.upper(),
            path=path,
            summary=str(operation.get("summary", "")),
            scopes=tuple(
                scope
                for requirement in operation.get("security", [])
                for scopes in requirement.values()
                for scope in scopes
            ),
            roles=tuple(operation.get("x-required-roles", ())),
            paging=paging_of(spec, operation),
            cache_age=operation.get("x-cache-age"),
            cache_mode=operation.get("x-cache-mode") or operation.get("x-server-cache-mode"),
            rate_limit=RateLimit(
                group=limit["group"],
                max_tokens=int(limit["max-tokens"]),
                window_seconds=window_seconds(limit["window-size"]),
            )
            if limit
            else None,
            compatibility_date=operation.get("x-compatibility-date"),
            parameters=tuple(_parameters(spec, operation, python_names)),
        )
    return result
