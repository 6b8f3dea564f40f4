"""Each operation's facts (scopes, roles, paging, cache, rate limit) as generated Python source."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from esi_generator.validate import iter_operations, resolve_ref

_WINDOW_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class OperationFacts:
    operation_id: str
    module: str
    literal: str
    doc_facts: str
    paging: str | None = None
    parameter_docs: dict[str, str] = field(default_factory=dict)  # python name -> description


def window_seconds(window: str) -> int:
    match = re.fullmatch(r"(\d+)([smhd])", window.strip())
    if match is None:
        raise ValueError(f"unknown rate-limit window {window!r}")
    return int(match.group(1)) * _WINDOW_UNITS[match.group(2)]


def json_type(spec: dict[str, Any], schema: Any) -> str:
    schema = resolve_ref(spec, schema) or {}
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "object")
    if kind == "array":
        return f"array[{json_type(spec, schema.get('items', {}))}]"
    return str(kind)


def _enum(spec: dict[str, Any], schema: Any) -> tuple[str, ...]:
    schema = resolve_ref(spec, schema) or {}
    if schema.get("type") == "array":
        schema = resolve_ref(spec, schema.get("items", {})) or {}
    return tuple(str(value) for value in schema.get("enum", ()))


def _parameter_literals(
    spec: dict[str, Any], operation: dict[str, Any], python_names: dict[str, str]
) -> list[str]:
    literals = []
    for raw in operation.get("parameters", []):
        parameter = resolve_ref(spec, raw)
        schema = parameter.get("schema", {})
        description = parameter.get("description") or (resolve_ref(spec, schema) or {}).get("description", "")
        # A parameter with a default need not be given (the signature fills it in), whatever
        # the spec's `required` says.
        required = bool(parameter.get("required")) and "default" not in (resolve_ref(spec, schema) or {})
        literals.append(
            "Parameter("
            f"name={parameter['name']!r}, "
            f"python_name={python_names.get(parameter['name'], parameter['name'])!r}, "
            f"location={parameter['in']!r}, json_type={json_type(spec, schema)!r}, "
            f"required={required!r}, description={description!r}, "
            f"enum={_enum(spec, schema)!r})"
        )
    body = resolve_ref(spec, operation.get("requestBody"))
    if body:
        schema = body.get("content", {}).get("application/json", {}).get("schema", {})
        literals.append(
            "Parameter("
            f"name='body', python_name='body', location='body', json_type={json_type(spec, schema)!r}, "
            f"required={bool(body.get('required'))!r}, description={body.get('description', '')!r})"
        )
    return literals


def operation_facts(
    spec: dict[str, Any], modules: dict[str, tuple[str, str, dict[str, str]]]
) -> dict[str, OperationFacts]:
    """Facts keyed by operationId; `modules` maps operationId to (tag, module, parameter names)."""
    result: dict[str, OperationFacts] = {}
    for path, method, operation in iter_operations(spec):
        operation_id = operation["operationId"]
        tag, module, python_names = modules[operation_id]
        scopes = tuple(
            scope
            for requirement in operation.get("security", [])
            for scopes in requirement.values()
            for scope in scopes
        )
        roles = tuple(operation.get("x-required-roles", ()))
        names = {resolve_ref(spec, p).get("name") for p in operation.get("parameters", [])}
        paging = (
            "cursor" if operation.get("x-pagination") == "cursor" else "page" if "page" in names else None
        )
        cache_age = operation.get("x-cache-age")
        cache_mode = operation.get("x-cache-mode") or operation.get("x-server-cache-mode")
        limit = operation.get("x-rate-limit")
        rate_limit = (
            f"RateLimit(group={limit['group']!r}, max_tokens={int(limit['max-tokens'])!r}, "
            f"window_seconds={window_seconds(limit['window-size'])!r})"
            if limit
            else "None"
        )
        parameters = _parameter_literals(spec, operation, python_names)
        literal = (
            "Operation(\n"
            f"    id={operation_id!r},\n"
            f"    python_name={module!r},\n"
            f"    module={f'esi_client.api.{tag}.{module}'!r},\n"
            f"    tag={tag!r},\n"
            f"    method={method.upper()!r},\n"
            f"    path={path!r},\n"
            f"    summary={operation.get('summary', '')!r},\n"
            f"    scopes={scopes!r},\n"
            f"    roles={roles!r},\n"
            f"    paging={paging!r},\n"
            f"    cache_age={cache_age!r},\n"
            f"    cache_mode={cache_mode!r},\n"
            f"    rate_limit={rate_limit},\n"
            f"    compatibility_date={operation.get('x-compatibility-date')!r},\n"
            f"    parameters=({''.join(p + ', ' for p in parameters)}),\n"
            ")"
        )
        lines = [f"ESI: `{method.upper()} {path}` ({operation_id})."]
        if scopes:
            lines.append(f"Scopes: {', '.join(scopes)}.")
        if roles:
            lines.append(f"Corporation roles (any of): {', '.join(roles)}.")
        if paging:
            lines.append(
                "Paged by `page` (X-Pages)." if paging == "page" else "Paged by cursor (before/after)."
            )
        if cache_age:
            lines.append(f"Cached for {cache_age} s.")
        if scopes and "corporation_id" in names and "character_id" not in names:
            lines.append("ESI answers for a member of the corporation: call with")
            lines.append("`client=client.for_character(character_id)` (whose token is used).")
        docs = {}
        for raw in operation.get("parameters", []):
            parameter = resolve_ref(spec, raw)
            schema = resolve_ref(spec, parameter.get("schema", {})) or {}
            description = " ".join(str(parameter.get("description") or schema.get("description", "")).split())
            docs[python_names.get(parameter["name"], parameter["name"])] = description
        result[operation_id] = OperationFacts(
            operation_id, module, literal, "\n".join(lines) + "\n", paging, docs
        )
    return result
