"""The one reader of CCP's spec for each operation's facts (scopes, roles, paging, cache, rate
limit, parameters), as the runtime's own `Operation` objects: the generator writes their `repr`
into each module, `esi spec diff` compares them, the fake ESI serves by them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from esi_client._operation import Operation, Paging, Parameter
from esi_generator.extensions import read_extensions
from esi_generator.validate import iter_operations, pointer, resolve_ref

# operationId -> (tag package, module name, {parameter name: Python name}), as generated.
Naming = Callable[[str, dict[str, Any]], tuple[str, str, dict[str, str]]]


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


def paging_of(spec: dict[str, Any], operation: dict[str, Any], cursor_paged: bool) -> Paging | None:
    """CCP's rule: `x-pagination: cursor`, else X-Pages when there is a `page` parameter."""
    if cursor_paged:
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
        facts = read_extensions(operation, pointer("paths", path, method))
        result[operation_id] = Operation(
            id=operation_id,
            python_name=module,
            module=f"esi_client.api.{tag}.{module}",
            tag=tag,
            method=method.upper(),
            path=path,
            summary=str(operation.get("summary", "")),
            scopes=facts.scopes,
            roles=facts.roles,
            paging=paging_of(spec, operation, facts.cursor_paged),
            cache_age=facts.cache_age,
            cache_mode=facts.cache_mode,
            rate_limit=facts.rate_limit,
            compatibility_date=facts.compatibility_date,
            parameters=tuple(_parameters(spec, operation, python_names)),
        )
    return result
