"""The fields of request and response schemas as flat paths, and what changed between two.

Paths read like the JSON they describe: `200[].ref_type` (an array's items), `changelog{}` (a
map's values), `claim|oneOf:alliance` (a union member, named by its reference, title or keys, so
reordering members is no change). Each component is expanded once per operation (cycle-aware and
bounded: a recursive schema is a reference where it recurs), so a change inside it is reported
once, at the first path that reaches it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from esi_generator.spec_facts import json_kind
from esi_generator.validate import resolve_ref

COMPONENT_PREFIX = "#/components/schemas/"


@dataclass(frozen=True)
class FieldInfo:
    kind: str  # the JSON type; "array", not "array[...]": items are a field of their own
    required: bool
    enum: tuple[str, ...] = ()


Shape = dict[str, FieldInfo]


def flatten_schema(spec: dict[str, Any], schema: Any, path: str, required: bool) -> Shape:
    shape: Shape = {}
    _flatten(spec, schema, path, required, shape, (), set())
    return shape


def _flatten(
    spec: dict[str, Any],
    schema: Any,
    path: str,
    required: bool,
    shape: Shape,
    stack: tuple[str, ...],
    expanded: set[str],
) -> None:
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    component = (
        ref[len(COMPONENT_PREFIX) :] if isinstance(ref, str) and ref.startswith(COMPONENT_PREFIX) else None
    )
    resolved = resolve_ref(spec, schema) or {}
    if not isinstance(resolved, dict):
        resolved = {}
    shape[path] = FieldInfo(
        json_kind(resolved), required, tuple(sorted(str(v) for v in resolved.get("enum", ())))
    )
    if component is not None:
        if component in stack or component in expanded:
            return  # recursion, or reported where it was first reached
        expanded.add(component)
        stack = (*stack, component)
    for keyword in ("oneOf", "anyOf", "allOf"):
        for index, member in enumerate(resolved.get(keyword, [])):
            label = _member_label(spec, member, index)
            _flatten(spec, member, f"{path}|{keyword}:{label}", required, shape, stack, expanded)
    if isinstance(resolved.get("items"), dict):
        _flatten(spec, resolved["items"], f"{path}[]", required, shape, stack, expanded)
    if isinstance(resolved.get("additionalProperties"), dict):
        _flatten(spec, resolved["additionalProperties"], f"{path}{{}}", False, shape, stack, expanded)
    required_fields = set(resolved.get("required", []))
    for name, member in (resolved.get("properties") or {}).items():
        _flatten(spec, member, f"{path}.{name}", name in required_fields, shape, stack, expanded)


def _member_label(spec: dict[str, Any], member: Any, index: int) -> str:
    """A union member's name that does not depend on its position."""
    if isinstance(member, dict) and isinstance(member.get("$ref"), str):
        return str(member["$ref"]).rsplit("/", 1)[-1]
    resolved = resolve_ref(spec, member) or {}
    if isinstance(resolved, dict):
        if resolved.get("title"):
            return str(resolved["title"])
        if resolved.get("properties"):
            return "+".join(sorted(resolved["properties"]))
        if "type" in resolved and "enum" not in resolved:
            return json_kind(resolved)
    return str(index)


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("[]"), path.rfind("{}"), path.rfind("|"))
    return path[:cut] if cut > 0 else ""


def _parent_is_new(path: str, other: Shape) -> bool:
    """True when an enclosing field is itself absent from `other` (report only the top change)."""
    parent = _parent(path)
    return bool(parent) and parent not in other


def enum_change(
    where: str, before: tuple[str, ...], after: tuple[str, ...], *, request: bool
) -> tuple[str, bool]:
    """(detail, breaking) of changed enum values. A request losing a value breaks callers that
    send it; a response gaining one is worth knowing (it arrives as UnknownEnumValue until the
    client is regenerated) but breaks nothing."""
    added = [value for value in after if value not in before]
    removed = [value for value in before if value not in after]
    parts = []
    if added:
        parts.append(f"values added: {', '.join(added)}")
    if removed:
        parts.append(f"values removed: {', '.join(removed)}")
    note = " (new values arrive as UnknownEnumValue until regenerated)" if added and not request else ""
    return f"{where}: enum {'; '.join(parts)}{note}", bool(removed) and request


def shape_changes(before: Shape, after: Shape, *, request: bool) -> list[tuple[str, bool]]:
    """(detail, breaking) for each change. A request may not gain required fields nor lose any
    (callers set them); a response may not lose fields nor make them optional."""
    changes: list[tuple[str, bool]] = []
    for path in sorted(after.keys() - before.keys()):
        if _parent_is_new(path, before):
            continue
        required = after[path].required
        changes.append((f"added {'required' if required else 'optional'} field {path}", request and required))
    for path in sorted(before.keys() - after.keys()):
        if _parent_is_new(path, after):
            continue
        changes.append((f"removed field {path}", True))
    for path in sorted(before.keys() & after.keys()):
        old, new = before[path], after[path]
        if old.kind != new.kind:
            changes.append((f"{path}: type {old.kind} -> {new.kind}", True))
            continue
        if old.required != new.required:
            state = "required" if new.required else "optional"
            changes.append((f"{path}: now {state}", new.required if request else not new.required))
        if old.enum != new.enum and old.enum and new.enum:
            changes.append(enum_change(path, old.enum, new.enum, request=request))
        elif old.enum != new.enum:
            limited = "no longer limited to listed values" if not new.enum else "now limited to listed values"
            changes.append((f"{path}: {limited}", bool(new.enum) and request))
    return changes
