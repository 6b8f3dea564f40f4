"""What changed between two ESI specs, operation by operation, each change breaking or not."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from generator.facts import json_type
from generator.transforms import drop_runtime_headers
from generator.validate import iter_operations, resolve_ref

Shape = dict[str, tuple[str, bool]]  # field path -> (JSON type, required)


@dataclass(frozen=True, order=True)
class Change:
    operation_id: str
    kind: str  # operation | parameter | request | response | scopes
    detail: str
    breaking: bool


@dataclass
class SpecDiff:
    old_version: str
    new_version: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def breaking(self) -> list[Change]:
        return [change for change in self.changes if change.breaking]

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def as_dict(self) -> dict[str, Any]:
        return {
            "old_version": self.old_version,
            "new_version": self.new_version,
            "added": self.added,
            "removed": self.removed,
            "renamed": [list(pair) for pair in self.renamed],
            "breaking": len(self.breaking),
            "changes": [asdict(change) for change in sorted(self.changes)],
        }


def diff_specs(old: dict[str, Any], new: dict[str, Any]) -> SpecDiff:
    """Compare two parsed specs; the runtime's shared headers are left out of the comparison."""
    old, new = drop_runtime_headers(old), drop_runtime_headers(new)
    old_ops = {op["operationId"]: (path, method, op) for path, method, op in iter_operations(old)}
    new_ops = {op["operationId"]: (path, method, op) for path, method, op in iter_operations(new)}
    result = SpecDiff(
        old_version=str(old.get("info", {}).get("version", "?")),
        new_version=str(new.get("info", {}).get("version", "?")),
    )
    added_ids = new_ops.keys() - old_ops.keys()
    removed_ids = old_ops.keys() - new_ops.keys()
    # An operationId that changed on the same route is a rename: the Python module moves.
    added_by_route = {(new_ops[i][0], new_ops[i][1]): i for i in added_ids}
    pairs = [
        (old_id, added_by_route[old_ops[old_id][:2]])
        for old_id in sorted(removed_ids)
        if old_ops[old_id][:2] in added_by_route
    ]
    for old_id, new_id in pairs:
        added_ids.discard(new_id)
        removed_ids.discard(old_id)
        result.renamed.append((old_id, new_id))
        path, method, _ = new_ops[new_id]
        result.changes.append(
            Change(new_id, "operation", f"renamed from {old_id} ({method.upper()} {path})", True)
        )
        result.changes.extend(_operation_changes(new_id, old, old_ops[old_id], new, new_ops[new_id]))
    for operation_id in sorted(added_ids):
        path, method, _ = new_ops[operation_id]
        result.added.append(operation_id)
        result.changes.append(Change(operation_id, "operation", f"added: {method.upper()} {path}", False))
    for operation_id in sorted(removed_ids):
        path, method, _ = old_ops[operation_id]
        result.removed.append(operation_id)
        result.changes.append(Change(operation_id, "operation", f"removed: {method.upper()} {path}", True))
    for operation_id in sorted(old_ops.keys() & new_ops.keys()):
        result.changes.extend(
            _operation_changes(operation_id, old, old_ops[operation_id], new, new_ops[operation_id])
        )
    result.changes.sort()
    return result


def _operation_changes(
    operation_id: str,
    old: dict[str, Any],
    old_entry: tuple[str, str, dict[str, Any]],
    new: dict[str, Any],
    new_entry: tuple[str, str, dict[str, Any]],
) -> list[Change]:
    changes: list[Change] = []
    (old_path, old_method, old_op), (new_path, new_method, new_op) = old_entry, new_entry
    if (old_path, old_method) != (new_path, new_method):
        changes.append(
            Change(
                operation_id,
                "operation",
                f"route changed: {old_method.upper()} {old_path} -> {new_method.upper()} {new_path}",
                True,
            )
        )
    changes.extend(_parameter_changes(operation_id, old, old_op, new, new_op))
    old_body, new_body = _request_shape(old, old_op), _request_shape(new, new_op)
    changes.extend(_shape_changes(operation_id, "request", old_body, new_body, request=True))
    old_resp, new_resp = _response_shape(old, old_op), _response_shape(new, new_op)
    changes.extend(_shape_changes(operation_id, "response", old_resp, new_resp, request=False))
    old_scopes, new_scopes = _scopes(old_op), _scopes(new_op)
    if old_scopes != new_scopes:
        gained = sorted(new_scopes - old_scopes)
        lost = sorted(old_scopes - new_scopes)
        detail = "; ".join(
            part
            for part in (
                f"now requires {', '.join(gained)}" if gained else "",
                f"no longer requires {', '.join(lost)}" if lost else "",
            )
            if part
        )
        changes.append(Change(operation_id, "scopes", detail, bool(gained)))
    return changes


def _scopes(operation: dict[str, Any]) -> set[str]:
    return {
        scope
        for requirement in operation.get("security", [])
        for scopes in requirement.values()
        for scope in scopes
    }


def _parameters(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    result = {}
    for raw in operation.get("parameters", []):
        parameter = resolve_ref(spec, raw)
        key = f"{parameter['in']} {parameter['name']}"
        result[key] = (json_type(spec, parameter.get("schema", {})), bool(parameter.get("required")))
    return result


def _parameter_changes(
    operation_id: str,
    old: dict[str, Any],
    old_op: dict[str, Any],
    new: dict[str, Any],
    new_op: dict[str, Any],
) -> list[Change]:
    before, after = _parameters(old, old_op), _parameters(new, new_op)
    changes = []
    for key in sorted(after.keys() - before.keys()):
        kind, required = after[key]
        changes.append(
            Change(
                operation_id,
                "parameter",
                f"added {'required' if required else 'optional'} {key} ({kind})",
                required,
            )
        )
    for key in sorted(before.keys() - after.keys()):
        changes.append(Change(operation_id, "parameter", f"removed {key}", True))
    for key in sorted(before.keys() & after.keys()):
        (old_type, old_required), (new_type, new_required) = before[key], after[key]
        if old_type != new_type:
            changes.append(Change(operation_id, "parameter", f"{key}: type {old_type} -> {new_type}", True))
        if old_required != new_required:
            state = "required" if new_required else "optional"
            changes.append(Change(operation_id, "parameter", f"{key}: now {state}", new_required))
    return changes


def _request_shape(spec: dict[str, Any], operation: dict[str, Any]) -> Shape:
    body = resolve_ref(spec, operation.get("requestBody"))
    if not body:
        return {}
    schema = body.get("content", {}).get("application/json", {}).get("schema")
    return flatten_schema(spec, schema, "body", bool(body.get("required"))) if schema else {}


def _response_shape(spec: dict[str, Any], operation: dict[str, Any]) -> Shape:
    shape: Shape = {}
    for status, raw in sorted(operation.get("responses", {}).items()):
        if not status.startswith("2"):
            continue
        response = resolve_ref(spec, raw)
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        shape.update(flatten_schema(spec, schema, status, True) if schema else {status: ("empty", True)})
    return shape


def flatten_schema(spec: dict[str, Any], schema: Any, path: str, required: bool, depth: int = 0) -> Shape:
    """Every field path in a schema with its JSON type and whether it is required."""
    schema = resolve_ref(spec, schema) or {}
    if depth > 12:
        return {path: ("recursive", required)}
    shape: Shape = {path: (json_type(spec, schema), required)}
    for keyword in ("oneOf", "anyOf", "allOf"):
        for index, member in enumerate(schema.get(keyword, [])):
            shape.update(flatten_schema(spec, member, f"{path}|{keyword}{index}", required, depth + 1))
    if "items" in schema:
        shape.update(flatten_schema(spec, schema["items"], f"{path}[]", required, depth + 1))
    required_fields = set(schema.get("required", []))
    for name, member in (schema.get("properties") or {}).items():
        shape.update(flatten_schema(spec, member, f"{path}.{name}", name in required_fields, depth + 1))
    return shape


def _shape_changes(
    operation_id: str, kind: str, before: Shape, after: Shape, *, request: bool
) -> list[Change]:
    """Breaking rules: a request may not gain required fields; a response may not lose fields."""
    changes = []
    for path in sorted(after.keys() - before.keys()):
        if _parent_is_new(path, before):
            continue
        _type, required = after[path]
        breaking = request and required
        changes.append(
            Change(
                operation_id, kind, f"added {'required' if required else 'optional'} field {path}", breaking
            )
        )
    for path in sorted(before.keys() - after.keys()):
        if _parent_is_new(path, after):
            continue
        changes.append(Change(operation_id, kind, f"removed field {path}", not request or before[path][1]))
    for path in sorted(before.keys() & after.keys()):
        (old_type, old_required), (new_type, new_required) = before[path], after[path]
        if old_type != new_type:
            changes.append(Change(operation_id, kind, f"{path}: type {old_type} -> {new_type}", True))
        elif old_required != new_required:
            state = "required" if new_required else "optional"
            breaking = new_required if request else not new_required
            changes.append(Change(operation_id, kind, f"{path}: now {state}", breaking))
    return changes


def _parent_is_new(path: str, other: Shape) -> bool:
    """True when an enclosing field is itself absent from `other` (report only the top change)."""
    cut = max(path.rfind("."), path.rfind("[]"), path.rfind("|"))
    parent = path[:cut] if cut > 0 else ""
    return bool(parent) and parent not in other
