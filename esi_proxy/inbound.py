"""A client's request read as the runtime's call: path and query typed by the spec, the body
checked as JSON. What the spec refuses is a `Refused` (a 400 sent to nothing)."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import orjson
from attrs import frozen

from esi_client._operation import Operation, Parameter

MAX_BODY_BYTES = 1024 * 1024
# Query names old tools still send, which the runtime says in headers instead (or drops).
LEGACY_QUERY = frozenset({"datasource", "token", "language"})


class Refused(Exception):
    """A request the proxy answers itself, sending nothing to ESI."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@frozen
class Call:
    """What the runtime is asked: the request mapping the generated functions build, and
    whether every page is wanted (`?page=all`)."""

    request: dict[str, Any]
    all_pages: bool
    legacy: dict[str, str]  # datasource, token, language as the query gave them


def read_call(
    operation: Operation,
    path_params: Mapping[str, str],
    query: Sequence[tuple[str, str]],
    body: bytes,
) -> Call:
    by_name = _parameters(operation)
    typed_path = {name: _typed(operation, by_name[name], [value]) for name, value in path_params.items()}
    params, legacy, all_pages = _read_query(operation, by_name, query)
    params = {**query_defaults(operation), **params}
    missing = [
        p.name for p in operation.parameters if p.required and p.location == "query" and p.name not in params
    ]
    if missing:
        raise Refused(400, f"{operation.id} needs the query parameter(s) {', '.join(missing)}")
    url = operation.path.format(**{name: quote(str(value), safe="") for name, value in typed_path.items()})
    request: dict[str, Any] = {"url": url, "params": params, "path_params": typed_path}
    body_parameter = by_name.get("body")
    if body_parameter is not None:
        request["json"] = _json_body(operation, body_parameter, body)
    elif body:
        raise Refused(400, f"{operation.id} takes no request body")
    return Call(request, all_pages, legacy)


# By operation id: an Operation's own hash walks every field, on every request.
_PARAMETERS: dict[str, dict[str, Parameter]] = {}
_DEFAULTS: dict[str, dict[str, Any]] = {}


def _parameters(operation: Operation) -> dict[str, Parameter]:
    found = _PARAMETERS.get(operation.id)
    if found is None:
        found = _PARAMETERS[operation.id] = {parameter.name: parameter for parameter in operation.parameters}
    return found


def query_defaults(operation: Operation) -> dict[str, Any]:
    """The query values the generated functions send when none is given (`order_type="all"`):
    the spec's defaults, which ESI may require to be sent."""
    found = _DEFAULTS.get(operation.id)
    if found is None:
        found = _DEFAULTS[operation.id] = _defaults(operation)
    return found


def _defaults(operation: Operation) -> dict[str, Any]:
    from esi_client.operations import load_module
    from esi_client.types import UNSET

    signature = inspect.signature(load_module(operation).sync).parameters
    defaults: dict[str, Any] = {}
    for parameter in operation.parameters:
        argument = signature.get(parameter.python_name)
        if parameter.location != "query" or argument is None:
            continue
        if argument.default not in (inspect.Parameter.empty, UNSET, None):
            defaults[parameter.name] = argument.default
    return defaults


def _read_query(
    operation: Operation, by_name: dict[str, Parameter], query: Sequence[tuple[str, str]]
) -> tuple[dict[str, Any], dict[str, str], bool]:
    raw: dict[str, list[str]] = {}
    legacy: dict[str, str] = {}
    all_pages = False
    for name, value in query:
        parameter = by_name.get(name)
        if name == "page" and value == "all" and operation.paging is not None:
            all_pages = True
        elif parameter is not None and parameter.location == "query":
            raw.setdefault(name, []).extend(part for part in value.split(",") if part)
        elif name in LEGACY_QUERY:
            legacy[name] = value
        else:
            known = ", ".join(p.name for p in operation.parameters if p.location == "query") or "none"
            raise Refused(400, f"{operation.id} has no query parameter {name!r} (its parameters: {known})")
    params = {name: _typed(operation, by_name[name], values) for name, values in raw.items()}
    return params, legacy, all_pages


def _typed(operation: Operation, parameter: Parameter, values: list[str]) -> Any:
    """A parameter's value as the generated function would pass it (an array as a list)."""
    kind = parameter.json_type
    if kind.startswith("array["):
        inner = kind[6:-1]
        return [_scalar(operation, parameter, inner, value) for value in values]
    if len(values) != 1:
        raise Refused(400, f"{operation.id}: {parameter.name} takes one value, not {len(values)}")
    return _scalar(operation, parameter, kind, values[0])


def _scalar(operation: Operation, parameter: Parameter, kind: str, value: str) -> Any:
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        raise Refused(400, f"{operation.id}: {parameter.name} must be {kind}, not {value!r}") from None
    if kind == "boolean":
        if value not in ("true", "false"):
            raise Refused(400, f"{operation.id}: {parameter.name} must be true or false, not {value!r}")
        return value == "true"
    return value


def _json_body(operation: Operation, parameter: Parameter, body: bytes) -> Any:
    if not body:
        if parameter.required:
            raise Refused(400, f"{operation.id} needs a JSON request body")
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refused(400, f"{operation.id}: the request body is not JSON ({exc})") from None
