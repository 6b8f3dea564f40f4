"""Parse a spec and reject what cannot be generated from, naming the location of the problem."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from esi_generator.errors import SpecError
from esi_generator.extensions import read_extensions
from esi_generator.source import SpecSource

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def pointer(*parts: str) -> str:
    """A JSON pointer (RFC 6901) to a location in the spec."""
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def parse_spec(source: SpecSource) -> dict[str, Any]:
    try:
        document = json.loads(source.content)
    except UnicodeDecodeError as exc:
        raise SpecError(source.origin, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"{source.origin}:{exc.lineno}:{exc.colno}", f"not valid JSON: {exc.msg}") from None
    if not isinstance(document, dict):
        raise SpecError(f"{source.origin}#", "not an OpenAPI document: the top level is not an object")
    validate_document(document, source.origin)
    return document


def iter_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, path_item in (document.get("paths") or {}).items():
        if not isinstance(path_item, dict):
            continue
        for method in HTTP_METHODS:
            operation = path_item.get(method)
            if isinstance(operation, dict):
                yield path, method, operation


def validate_document(document: dict[str, Any], origin: str) -> None:
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        raise SpecError(
            f"{origin}{pointer('openapi')}",
            f"not an OpenAPI 3.x document (openapi is {version!r})",
        )
    if version.startswith("3.0"):
        # CCP's 3.0 conversion lifts union members into colliding components and nests unions
        # where openapi-python-client refuses them; its 3.1 document has neither.
        raise SpecError(
            f"{origin}{pointer('openapi')}",
            f"an OpenAPI {version} document: only CCP's OpenAPI 3.1 document is supported "
            "(https://esi.evetech.net/meta/openapi.json, not /meta/openapi-3.0.json)",
        )
    if not isinstance(document.get("paths"), dict):
        raise SpecError(f"{origin}{pointer('paths')}", "the document has no paths object")
    for path, path_item in document["paths"].items():
        if not isinstance(path_item, dict):
            kind = type(path_item).__name__
            raise SpecError(f"{origin}{pointer('paths', path)}", f"a path item must be an object, not {kind}")
    for location, ref in _iter_refs(document, ()):
        if not _resolves(document, ref):
            raise SpecError(f"{origin}{pointer(*location)}", f"$ref {ref!r} does not resolve")
        _check_ref_chain(document, ref, origin)
    seen: dict[str, str] = {}
    for path, method, operation in iter_operations(document):
        where = pointer("paths", path, method)
        operation_id = operation.get("operationId")
        if not isinstance(operation_id, str) or not operation_id:
            raise SpecError(f"{origin}{where}", "the operation has no operationId")
        if operation_id in seen:
            raise SpecError(
                f"{origin}{where}", f"operationId {operation_id!r} is also used at {seen[operation_id]}"
            )
        seen[operation_id] = where
        read_extensions(operation, f"{origin}{where}")
    if not seen:
        raise SpecError(f"{origin}{pointer('paths')}", "the document has no operations to generate")


def _check_ref_chain(document: dict[str, Any], ref: str, origin: str) -> None:
    """A `$ref` that leads back to itself through other `$ref`s would be followed for ever."""
    chain = [ref]
    node = _target(document, ref)
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        following = node["$ref"]
        if following in chain:
            raise SpecError(
                f"{origin}{following}",
                f"$ref cycle: {' -> '.join([*chain[chain.index(following) :], following])}",
            )
        chain.append(following)
        node = _target(document, following)


def _iter_refs(node: Any, location: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield (*location, "$ref"), ref
        for key, value in node.items():
            if isinstance(value, dict | list):
                yield from _iter_refs(value, (*location, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _iter_refs(value, (*location, str(index)))


def _target(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for raw in ref[2:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _resolves(document: dict[str, Any], ref: str) -> bool:
    if not ref.startswith("#/"):
        return False  # external references are not used by ESI's spec and not supported
    node: Any = document
    for raw in ref[2:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def resolve_ref(document: dict[str, Any], node: Any) -> Any:
    """Follow `$ref`s (local only) until a non-reference node."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target: Any = document
        for raw in node["$ref"][2:].split("/"):
            target = target[raw.replace("~1", "/").replace("~0", "~")]
        node = target
    return node
