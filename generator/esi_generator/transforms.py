"""Named, documented transforms that turn CCP's spec into what openapi-python-client should see.

Each transform takes the spec and returns a new one; the input is never changed. `TRANSFORMS`
lists them in the order `normalise` applies them, with the reason each one exists.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from esi_generator.validate import iter_operations, resolve_ref

# Every ESI operation declares these headers. They are client-wide settings (the
# compatibility date comes from the pin), so the runtime sends them, not each call.
RUNTIME_HEADERS = frozenset(
    {"x-compatibility-date", "x-tenant", "accept-language", "if-none-match", "if-modified-since"}
)

Spec = dict[str, Any]


@dataclass(frozen=True)
class Transform:
    name: str
    why: str
    apply: Callable[[Spec], Spec]


def drop_runtime_headers(spec: Spec) -> Spec:
    """Remove the shared ESI header parameters from every operation."""
    result = copy.deepcopy(spec)
    for _path, _method, operation in iter_operations(result):
        operation["parameters"] = [
            parameter
            for parameter in operation.get("parameters", [])
            if not _is_runtime_header(result, parameter)
        ]
    parameters = result.get("components", {}).get("parameters", {})
    for name in [n for n, p in parameters.items() if _is_runtime_header(result, p)]:
        del parameters[name]
    return result


def _is_runtime_header(spec: Spec, parameter: Any) -> bool:
    resolved = resolve_ref(spec, parameter)
    return (
        isinstance(resolved, dict)
        and resolved.get("in") == "header"
        and str(resolved.get("name", "")).lower() in RUNTIME_HEADERS
    )


def keep_success_responses(spec: Spec) -> Spec:
    """Keep only the 2xx responses of each operation; errors are raised by the runtime."""
    result = copy.deepcopy(spec)
    for _path, _method, operation in iter_operations(result):
        operation["responses"] = {
            status: response
            for status, response in operation.get("responses", {}).items()
            if status.startswith("2") or status.upper() == "2XX"
        }
    return result


def unique_union_member_titles(spec: Spec) -> Spec:
    """Prefix the title of each inline oneOf/anyOf member with the property that holds it.

    openapi-python-client names an inline object after its title. ESI's sovereignty hub
    transport has two unions (`configuration`, `state`) whose members share the titles
    `import`, `export` and `transit`; the clashing class names make openapi-python-client drop
    the schema and, with it, the operation's response model.
    """
    result = copy.deepcopy(spec)
    _retitle_union_members(result.get("components", {}).get("schemas", {}))
    for _path, _method, operation in iter_operations(result):
        _retitle_union_members(operation)
    return result


def _retitle_union_members(node: Any) -> None:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for property_name, schema in properties.items():
                for keyword in ("oneOf", "anyOf"):
                    for member in schema.get(keyword, []) if isinstance(schema, dict) else []:
                        if isinstance(member, dict) and "$ref" not in member and "title" in member:
                            member["title"] = f"{property_name}_{member['title']}"
        for value in node.values():
            _retitle_union_members(value)
    elif isinstance(node, list):
        for value in node:
            _retitle_union_members(value)


TRANSFORMS: tuple[Transform, ...] = (
    Transform(
        "drop_runtime_headers",
        "X-Compatibility-Date, X-Tenant, Accept-Language, If-None-Match and If-Modified-Since are "
        "client settings sent by the runtime; as parameters they add five arguments to every call "
        "and two enum models per operation (450 files)",
        drop_runtime_headers,
    ),
    Transform(
        "keep_success_responses",
        "ESI's `default` error response would make every call return `Error | T`; the runtime "
        "raises typed exceptions for non-2xx instead, so functions return T",
        keep_success_responses,
    ),
    Transform(
        "unique_union_member_titles",
        "inline union members titled alike in two properties clash as class names; "
        "openapi-python-client then drops the schema and the operation's response model",
        unique_union_member_titles,
    ),
)


def normalise(spec: Spec) -> Spec:
    for transform in TRANSFORMS:
        spec = transform.apply(spec)
    return spec
