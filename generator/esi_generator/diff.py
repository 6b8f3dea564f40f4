"""What changed between two ESI specs, operation by operation, each change breaking or not."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from esi_client._operation import Operation, RateLimit
from esi_generator.diff_shapes import FieldInfo, Shape, enum_change, flatten_schema, shape_changes
from esi_generator.extensions import read_extensions
from esi_generator.spec_facts import json_kind, read_operations
from esi_generator.transforms import drop_runtime_headers
from esi_generator.validate import iter_operations, resolve_ref


@dataclass(frozen=True, order=True)
class Change:
    operation_id: str
    kind: str  # operation | parameter | request | response | scopes | facts (notes, never breaking)
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
    facts = (read_operations(old), read_operations(new))
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
        result.changes.extend(
            _operation_changes(new_id, old, old_ops[old_id], new, new_ops[new_id], facts, old_id)
        )
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
            _operation_changes(operation_id, old, old_ops[operation_id], new, new_ops[operation_id], facts)
        )
    result.changes.sort()
    return result


def _operation_changes(
    operation_id: str,
    old: dict[str, Any],
    old_entry: tuple[str, str, dict[str, Any]],
    new: dict[str, Any],
    new_entry: tuple[str, str, dict[str, Any]],
    facts: tuple[dict[str, Operation], dict[str, Operation]],
    old_id: str | None = None,
) -> list[Change]:
    changes: list[Change] = []
    old_facts, new_facts = facts[0][old_id or operation_id], facts[1][operation_id]
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
    old_module, new_module = old_facts.tag, new_facts.tag
    if old_module != new_module:
        detail = f"moves from esi_client.api.{old_module} to esi_client.api.{new_module} (imports change)"
        changes.append(Change(operation_id, "operation", detail, True))
    changes.extend(_parameter_changes(operation_id, old, old_op, new, new_op))
    for kind, before, after, request in (
        ("request", _request_shape(old, old_op), _request_shape(new, new_op), True),
        ("response", _response_shape(old, old_op), _response_shape(new, new_op), False),
    ):
        changes.extend(
            Change(operation_id, kind, detail, breaking)
            for detail, breaking in shape_changes(before, after, request=request)
        )
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
    changes.extend(
        Change(operation_id, "facts", note, False) for note in _facts_changes(old_facts, new_facts)
    )
    return changes


def _facts_changes(old_facts: Operation, new_facts: Operation) -> list[str]:
    """What the runtime does differently: roles, rate limit, cache age, paging (notes)."""
    notes = []
    if sorted(old_facts.roles) != sorted(new_facts.roles):
        before, after = ", ".join(old_facts.roles) or "none", ", ".join(new_facts.roles) or "none"
        notes.append(f"corporation roles: {before} -> {after}")
    if old_facts.rate_limit != new_facts.rate_limit:
        notes.append(
            f"rate limit: {_rate_limit(old_facts.rate_limit)} -> {_rate_limit(new_facts.rate_limit)}"
        )
    if old_facts.cache_age != new_facts.cache_age:
        notes.append(f"cache age: {old_facts.cache_age} s -> {new_facts.cache_age} s")
    if old_facts.paging != new_facts.paging:
        notes.append(f"paging: {old_facts.paging} -> {new_facts.paging}")
    return notes


def _rate_limit(limit: RateLimit | None) -> str:
    if limit is None:
        return "none"
    return f"{limit.group} {limit.max_tokens} per {limit.window_seconds} s"


def _scopes(operation: dict[str, Any]) -> set[str]:
    return set(read_extensions(operation, "").scopes)  # both specs were read (and checked) first


def _parameters(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, FieldInfo]:
    result = {}
    for raw in operation.get("parameters", []):
        parameter = resolve_ref(spec, raw)
        schema = resolve_ref(spec, parameter.get("schema", {})) or {}
        if json_kind(schema) == "array":  # a list parameter: its values are the items'
            items = resolve_ref(spec, schema.get("items", {})) or {}
            kind, enum = f"array[{json_kind(items)}]", items.get("enum", ())
        else:
            kind, enum = json_kind(schema), schema.get("enum", ())
        key = f"{parameter['in']} {parameter['name']}"
        result[key] = FieldInfo(kind, bool(parameter.get("required")), tuple(sorted(str(v) for v in enum)))
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
        field = after[key]
        state = "required" if field.required else "optional"
        changes.append(
            Change(operation_id, "parameter", f"added {state} {key} ({field.kind})", field.required)
        )
    for key in sorted(before.keys() - after.keys()):
        changes.append(Change(operation_id, "parameter", f"removed {key}", True))
    for key in sorted(before.keys() & after.keys()):
        old_field, new_field = before[key], after[key]
        if old_field.kind != new_field.kind:
            detail = f"{key}: type {old_field.kind} -> {new_field.kind}"
            changes.append(Change(operation_id, "parameter", detail, True))
        if old_field.required != new_field.required:
            state = "required" if new_field.required else "optional"
            changes.append(Change(operation_id, "parameter", f"{key}: now {state}", new_field.required))
        if old_field.enum != new_field.enum:
            detail, breaking = enum_change(key, old_field.enum, new_field.enum, request=True)
            changes.append(Change(operation_id, "parameter", detail, breaking))
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
        shape.update(
            flatten_schema(spec, schema, status, True) if schema else {status: FieldInfo("empty", True)}
        )
    return shape
