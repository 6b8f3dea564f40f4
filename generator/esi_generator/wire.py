"""Which generated models get a wire mirror: the fast decode path for big bodies.

A model whose properties are all scalars (int, float, bool, str, date-time, date, Literal enums),
lists of scalars, one scalar or null, or nested models (and lists of them) of that kind, can be
decoded by msgspec straight from the body's bytes into a mirror struct and then built
positionally (`Model(*fields)`): under half the cost of `orjson.loads` + `from_dict` on a
1000-order market page. The templates ask `esi_wire_fields` (`WireRules.fields`)
for a model's fields in the model's positional order, as Python expressions the generated module
can evaluate; a model with any other kind of property (unions of several types, free-form
objects, self-reference) keeps the `from_dict` path only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

SCALAR_TYPES = {
    "IntProperty": "int",
    "FloatProperty": "float",
    "BooleanProperty": "bool",
    "StringProperty": "str",
    "DateTimeProperty": "datetime.datetime",
    "DateProperty": "datetime.date",
}


class WireField(NamedTuple):
    python_name: str
    json_literal: str  # the JSON key as a Python string literal: spec text never lands raw in code
    type_expression: str
    required: bool


def _kind(prop: Any) -> str:
    return type(prop).__name__


def _scalar_expression(prop: Any) -> str | None:
    kind = _kind(prop)
    if kind in SCALAR_TYPES:
        return SCALAR_TYPES[kind]
    if kind == "LiteralEnumProperty":
        return str(prop.class_info.name)
    return None


class WireRules:
    """The wire rules over one generation's processed models (looked up by class name: a nested
    model a property refers to by `$ref` can be a copy made before its properties were read)."""

    def __init__(self, models: Iterable[Any]) -> None:
        self.models = {str(model.class_info.name): model for model in models}

    def fields(self, model: Any, seen: frozenset[str] = frozenset()) -> list[WireField] | None:
        """The model's wire fields, or None when the model keeps the `from_dict` path only."""
        model = self.models.get(str(model.class_info.name), model)
        extra = model.additional_properties
        if extra is not None and not isinstance(extra, bool) and _kind(extra) != "AnyProperty":
            return None  # typed additional properties: from_dict converts each one
        if model.required_properties is None or len(seen) > 8:
            return None
        fields = []
        for prop in positional_order(model):
            expression = self.type_expression(prop, seen | {str(model.class_info.name)})
            if expression is None:
                return None
            literal = repr(raw_text(prop.name))
            fields.append(WireField(str(prop.python_name), literal, expression, bool(prop.required)))
        return fields or None

    def type_expression(self, prop: Any, seen: frozenset[str] = frozenset()) -> str | None:
        """The msgspec type of one property as a Python expression, or None if it has none."""
        scalar = _scalar_expression(prop)
        if scalar is not None:
            return scalar
        kind = _kind(prop)
        if kind == "ModelProperty":
            return self._nested_model(prop, "model", seen)
        if kind == "ListProperty":
            if _kind(prop.inner_property) == "ModelProperty":
                return self._nested_model(prop.inner_property, "list", seen)
            inner = _scalar_expression(prop.inner_property)
            return f"list[{inner}]" if inner else None
        if kind == "UnionProperty":
            members = [member for member in prop.inner_properties if _kind(member) != "NoneProperty"]
            nullable = len(members) < len(prop.inner_properties)
            if len(members) == 1 and nullable:
                inner = _scalar_expression(members[0])
                return f"{inner} | None" if inner else None
        return None

    def _nested_model(self, prop: Any, kind: str, seen: frozenset[str]) -> str | None:
        """A nested model (or list of them) as a ("model"|"list", module, class) tuple expression.

        Nested model classes are imported lazily by the generated code (they may import each
        other), so the mirror names them and the runtime imports them when it builds the mirror.
        """
        name = str(prop.class_info.name)
        if name in seen or self.fields(prop, seen | {name}) is None:
            return None
        return repr((kind, str(prop.class_info.module_name), name))


def positional_order(model: Any) -> list[Any]:
    """The model's properties in the order of its generated `__init__`: required ones without a
    default first (the one rule: the template declares and constructs by it, the wire mirrors it)."""
    properties = list(model.required_properties or []) + list(model.optional_properties or [])
    first = [prop for prop in properties if prop.default is None and prop.required]
    rest = [prop for prop in properties if prop.default is not None or not prop.required]
    return first + rest


def esi_response_model(prop: Any) -> tuple[str, bool] | None:
    """(model class, is a list) when an operation's response is a model or a list of models."""
    if _kind(prop) == "ModelProperty":
        return str(prop.class_info.name), False
    if _kind(prop) == "ListProperty" and _kind(prop.inner_property) == "ModelProperty":
        return str(prop.inner_property.class_info.name), True
    return None


def raw_text(value: Any) -> str:
    """The plain text of one of openapi-python-client's UntrustedString values."""
    return str(value.get_untrusted_value()) if hasattr(value, "get_untrusted_value") else str(value)
