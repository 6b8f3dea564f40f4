"""Each operation's facts as generated Python: the `OPERATION` literal and the docstring lines
(the facts themselves are read once, by esi_generator.spec_facts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from esi_generator.spec_facts import read_operations


@dataclass(frozen=True)
class OperationFacts:
    operation_id: str
    module: str
    literal: str
    doc_facts: str
    paging: str | None = None
    parameter_docs: dict[str, str] = field(default_factory=dict)  # python name -> description


def operation_facts(
    spec: dict[str, Any], modules: dict[str, tuple[str, str, dict[str, str]]]
) -> dict[str, OperationFacts]:
    """Facts keyed by operationId; `modules` maps operationId to (tag, module, parameter names)."""
    result: dict[str, OperationFacts] = {}
    for operation in read_operations(spec, lambda operation_id, _raw: modules[operation_id]).values():
        names = {parameter.name for parameter in operation.parameters}
        lines = [f"ESI: `{operation.method} {operation.path}` ({operation.id})."]
        if operation.scopes:
            lines.append(f"Scopes: {', '.join(operation.scopes)}.")
        if operation.roles:
            lines.append(f"Corporation roles (any of): {', '.join(operation.roles)}.")
        if operation.paging == "page":
            lines.append("Paged by `page` (X-Pages): all_pages() gets every page.")
        elif operation.paging == "cursor":
            lines.append("Paged by cursor (before/after): iter_cursor() walks it.")
        if operation.cache_age:
            lines.append(f"Cached for {operation.cache_age} s.")
        if operation.scopes and "corporation_id" in names and "character_id" not in names:
            lines.append("ESI answers for a member of the corporation: call with")
            lines.append("`client=client.for_character(character_id)` (whose token is used).")
        result[operation.id] = OperationFacts(
            operation.id,
            operation.python_name,
            repr(operation),  # attrs' repr is the constructor call, with RateLimit/Parameter inside
            "\n".join(lines) + "\n",
            operation.paging,
            {parameter.python_name: parameter.description for parameter in operation.parameters},
        )
    return result
