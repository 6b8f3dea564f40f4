"""One operation described for people: what `esi call OP --help`, `esi ops show OP` and the
docs' operation reference print. Read from the generated module and its facts, never the spec."""

from __future__ import annotations

import inspect
from typing import Any

import attrs

from esi_client._operation import Operation, Parameter
from esi_client.operations import load_module


@attrs.frozen
class Argument:
    """One argument of the operation's functions, as a caller writes it."""

    python_name: str
    flag: str  # as `esi call` takes it: --region-id
    location: str
    annotation: str
    required: bool
    default: str | None
    description: str
    allowed: str  # the spec's enum or bounds, in words; "" when open


@attrs.frozen
class BodyField:
    name: str
    annotation: str
    required: bool


@attrs.frozen
class OperationDescription:
    operation: Operation
    import_line: str
    arguments: tuple[Argument, ...]
    body_type: str | None
    body_fields: tuple[BodyField, ...]
    returns: str
    example: str  # the equivalent `esi call`

    @property
    def facts(self) -> list[tuple[str, str]]:
        """The spec's facts, as (label, value) rows."""
        op = self.operation
        rows = [("route", f"{op.method} {op.path}"), ("tag", op.tag)]
        rows.append(("scopes", " ".join(op.scopes) or "none (public)"))
        if op.roles:
            rows.append(("corporation roles", ", ".join(op.roles)))
        paging = {"page": "page + X-Pages: .all_pages()", "cursor": "cursor (before/after): .iter_cursor()"}
        rows.append(("paging", paging.get(op.paging or "", "none")))
        if op.cache_age is not None:
            rows.append(("cached", f"{op.cache_age} s" + (f" ({op.cache_mode})" if op.cache_mode else "")))
        if op.rate_limit is not None:
            limit = op.rate_limit
            rows.append(
                ("rate-limit group", f"{limit.group}: {limit.max_tokens} tokens / {limit.window_seconds} s")
            )
        return rows


def _allowed(parameter: Parameter) -> str:
    parts = []
    if parameter.enum:
        parts.append("one of " + ", ".join(parameter.enum))
    if parameter.minimum is not None:
        parts.append(f">= {parameter.minimum:g}")
    if parameter.maximum is not None:
        parts.append(f"<= {parameter.maximum:g}")
    if parameter.pattern is not None:
        parts.append(f"matching {parameter.pattern}")
    if parameter.max_items is not None:
        parts.append(f"at most {parameter.max_items} items")
    return "; ".join(parts)


def _body_fields(module: Any, annotation: str) -> tuple[BodyField, ...]:
    model = getattr(module, annotation.split(" |")[0].strip(), None)
    if not (inspect.isclass(model) and attrs.has(model)):
        return ()
    return tuple(
        BodyField(f.name, str(f.type), f.default is attrs.NOTHING)
        for f in attrs.fields(model)
        if f.name != "additional_properties"
    )


def describe(operation: Operation) -> OperationDescription:
    module = load_module(operation)
    signature = inspect.signature(module.sync)
    facts = {p.python_name: p for p in operation.parameters}
    arguments = []
    body_type = None
    for name, slot in signature.parameters.items():
        if name == "client":
            continue
        annotation = str(slot.annotation).replace(" | Unset", "")
        if name == "body":
            body_type = annotation
        fact = facts.get(name)
        default = None if slot.default is inspect.Parameter.empty else slot.default
        arguments.append(
            Argument(
                python_name=name,
                flag="--" + (fact.name if fact else name).replace("_", "-"),
                location=fact.location if fact else "query",
                annotation=annotation,
                required=slot.default is inspect.Parameter.empty,
                default=None if default is None or type(default).__name__ == "Unset" else repr(default),
                description=fact.description if fact else "",
                allowed=_allowed(fact) if fact else "",
            )
        )
    required = [a for a in arguments if a.required]
    example = " ".join(
        ["esi call", operation.id]
        + [f"{a.flag} {'JSON' if a.location == 'body' else a.python_name.upper()}" for a in required]
    )
    return OperationDescription(
        operation=operation,
        import_line=f"from {operation.module.rsplit('.', 1)[0]} import {operation.python_name}",
        arguments=tuple(arguments),
        body_type=body_type,
        body_fields=_body_fields(module, body_type) if body_type else (),
        returns=str(signature.return_annotation),
        example=example,
    )
