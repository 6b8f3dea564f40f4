"""The fast decode path: a body's bytes straight into attrs models, through msgspec.

`orjson.loads` + the generated `from_dict` costs nearly three times plain `orjson.loads` on a
1000-order market page: the per-item dict lookups and checks run as Python bytecode. For a model
whose fields are scalars (or nested models of such fields), the generator emits `_esi_wire` (its
fields in `__init__` order); from it this module builds, once, a msgspec struct that mirrors the
JSON (same keys, same types, no unknown keys allowed) and a decoder for it. msgspec parses and
validates in C, and the model is built positionally from each mirror: `Model(*astuple(mirror))`,
converting nested mirrors first.

The mirror accepts only what the spec describes. A body with keys the spec does not name (kept
in `additional_properties` by `from_dict`), a value of another type, or bytes that are not JSON
fall back to `orjson.loads` + `from_dict`, which keeps the extra keys or raises the one clear
BadResponseError naming the field. Small bodies always take that path: importing msgspec and
building the decoder would cost a cold start more than it saves.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from esi_client.types import UNSET

T = TypeVar("T")


class WireMismatch(Exception):
    """The body does not match the model's wire mirror exactly; msgspec's reason is the text."""


WireFields = tuple[tuple[str, str, Any, bool], ...]


class _Mirror:
    """One model's msgspec struct and the function that turns a decoded struct into the model."""

    __slots__ = ("convert", "flat", "struct")
    struct: Any
    convert: Callable[[Any], Any]
    flat: bool

    def __init__(self, model: type, mirrors: dict[type, _Mirror]) -> None:
        import msgspec  # here, not at the top: only big bodies need it, cold starts should not pay

        fields: WireFields = model.__dict__["_esi_wire"]
        package = model.__module__.rpartition(".")[0]
        members: list[tuple[str, Any] | tuple[str, Any, Any]] = []
        nested: list[tuple[int, bool, Callable[[Any], Any]]] = []
        for index, (name, _key, kind, required) in enumerate(fields):
            if isinstance(kind, tuple):  # ("model" | "list", module, class): a nested model
                shape, module_name, class_name = kind
                inner_model = getattr(importlib.import_module(f"{package}.{module_name}"), class_name)
                inner = mirrors.get(inner_model) or _Mirror(inner_model, mirrors)
                kind = list[inner.struct] if shape == "list" else inner.struct  # type: ignore[name-defined]
                nested.append((index, shape == "list", inner.convert))
            kind = _json_ints(_known_values(kind), msgspec)
            members.append((name, kind) if required else (name, kind, UNSET))
        self.struct = msgspec.defstruct(
            f"{model.__name__}Wire",
            members,
            rename={name: key for name, key, _kind, _required in fields},
            kw_only=True,
            forbid_unknown_fields=True,
            gc=False,  # short-lived and acyclic: keep them out of the collector
            module=model.__module__,
        )
        self.flat = not nested
        self.convert = _converter(model, nested, msgspec.structs.astuple)
        mirrors[model] = self


def _json_ints(kind: Any, msgspec: Any) -> Any:
    """An int field bounded to int64: msgspec reads any integer exactly, orjson only those
    within 64 bits (a bigger one becomes a float, which the checked path refuses). Beyond
    int64 the fast path hands the body to the checked one (msgspec takes no uint64 bound), so
    both give the same answer: the exact integer, or a BadResponseError naming the field."""
    from typing import Annotated, get_args, get_origin

    if kind is int:
        return Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
    if get_origin(kind) is list and get_args(kind) == (int,):
        return list[Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]]
    return kind


def _known_values(kind: Any) -> Any:
    """An enum field's Literal of known values: an unknown value then takes the checked from_dict
    path, which keeps it as an UnknownEnumValue."""
    from typing import Union, get_args, get_origin

    from esi_client.decoding.checks import UnknownEnumValue

    members = get_args(kind)
    if get_origin(kind) is list:
        return list[_known_values(members[0])]  # type: ignore[misc]
    if UnknownEnumValue in members:
        known = tuple(member for member in members if member is not UnknownEnumValue)
        return known[0] if len(known) == 1 else Union[known]  # noqa: UP007 (built from a tuple)
    return kind


def _converter(
    model: type,
    nested: list[tuple[int, bool, Callable[[Any], Any]]],
    astuple: Callable[[Any], tuple[Any, ...]],
) -> Callable[[Any], Any]:
    if not nested:
        return lambda mirror: model(*astuple(mirror))

    def convert(mirror: Any) -> Any:
        values = list(astuple(mirror))
        for index, many, inner in nested:
            value = values[index]
            if value is not UNSET:
                values[index] = [inner(item) for item in value] if many else inner(value)
        return model(*values)

    return convert


class _Wire:
    """A response's decoder (the model's mirror, or a list of it), built on first use."""

    __slots__ = ("astuple", "decode", "errors", "mirror")
    decode: Callable[[bytes], Any]
    astuple: Callable[[Any], tuple[Any, ...]]
    errors: tuple[type[Exception], ...]

    def __init__(self, model: type, many: bool):
        import msgspec

        self.mirror = _Mirror(model, {})
        struct = self.mirror.struct
        self.decode = msgspec.json.Decoder(list[struct] if many else struct).decode  # type: ignore[valid-type]
        self.astuple = msgspec.structs.astuple
        self.errors = (msgspec.DecodeError,)  # ValidationError is a DecodeError


class ModelParser(Generic[T]):
    """An operation's parser for a model (or list of models) response.

    Called with decoded JSON it is the generated `from_dict` path; `decode_bytes` is the fast
    path, used by the runtime for big bodies when the model has a wire mirror.
    """

    __slots__ = ("_lock", "_many", "_model", "_parse_data", "_wire")

    def __init__(self, parse_data: Callable[[Any], T], model: type, *, many: bool) -> None:
        self._parse_data = parse_data
        self._model = model
        self._many = many
        self._wire: _Wire | None = None
        self._lock = threading.Lock()

    def __call__(self, data: Any) -> T:
        return self._parse_data(data)

    @property
    def has_wire(self) -> bool:
        return "_esi_wire" in self._model.__dict__

    def decode_bytes(self, content: bytes) -> T:
        """The parsed body; WireMismatch when it does not match the mirror exactly."""
        wire = self._wire or self._build()
        if wire is None:
            raise WireMismatch("the model has no wire mirror")
        try:
            decoded = wire.decode(content)
        except wire.errors as exc:
            raise WireMismatch(str(exc)) from None
        if not wire.mirror.flat:
            convert = wire.mirror.convert
            return [convert(item) for item in decoded] if self._many else convert(decoded)  # type: ignore[return-value]
        model, astuple = self._model, wire.astuple  # inlined: the common case, page after page
        if self._many:
            return [model(*astuple(item)) for item in decoded]  # type: ignore[return-value]
        return model(*astuple(decoded))  # type: ignore[no-any-return]

    def _build(self) -> _Wire | None:
        if not self.has_wire:
            return None
        with self._lock:
            if self._wire is None:
                self._wire = _Wire(self._model, self._many)
        return self._wire
