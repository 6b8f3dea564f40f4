"""Deterministic, schema-valid data for any ESI response schema, from a seed."""

from __future__ import annotations

import datetime
import random
import uuid
from collections.abc import Callable
from typing import Any

# A field's value by its name (plausible data), or the `nothing` sentinel it was given.
FieldValue = Callable[[str, dict[str, Any], random.Random], Any]

EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
DATA_DAYS = 300  # generated dates and times lie within this many days after EPOCH


class DataMaker:
    """Makes JSON values that satisfy a schema of CCP's spec, the same ones for the same seed."""

    def __init__(
        self,
        spec: dict[str, Any],
        array_length: int = 3,
        field_value: FieldValue | None = None,
        nothing: Any = None,
    ) -> None:
        self.spec = spec
        self.array_length = array_length
        self.field_value, self.nothing = field_value, nothing

    def make(self, schema: Any, seed: str) -> Any:
        return self._value(schema, random.Random(seed), 0)

    def items(self, schema: Any, seed: str, count: int) -> list[Any]:
        """`count` items of an array schema (the items of one page)."""
        rng = random.Random(seed)
        item_schema = self.resolve(schema).get("items", {})
        return [self._value(item_schema, rng, 1) for _ in range(count)]

    def resolve(self, schema: Any) -> dict[str, Any]:
        while isinstance(schema, dict) and "$ref" in schema:
            node: Any = self.spec
            for part in schema["$ref"][2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            schema = node
        return schema if isinstance(schema, dict) else {}

    def _value(self, schema: Any, rng: random.Random, depth: int) -> Any:
        schema = self.resolve(schema)
        if "enum" in schema:
            return rng.choice(schema["enum"])
        if "const" in schema:
            return schema["const"]
        for keyword in ("oneOf", "anyOf"):
            if keyword in schema:
                return self._value(rng.choice(schema[keyword]), rng, depth + 1)
        kind = schema.get("type", "object")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        maker = getattr(self, f"_{kind}", None)
        return maker(schema, rng, depth) if maker else None

    def _null(self, schema: dict[str, Any], rng: random.Random, depth: int) -> None:
        return None

    def _boolean(self, schema: dict[str, Any], rng: random.Random, depth: int) -> bool:
        return rng.random() < 0.5

    def _integer(self, schema: dict[str, Any], rng: random.Random, depth: int) -> int:
        high = 2**31 - 1 if schema.get("format") == "int32" else 2**40
        low = int(schema.get("minimum", 1))
        return rng.randint(low, int(schema.get("maximum", max(low, min(high, 10**9)))))

    def _number(self, schema: dict[str, Any], rng: random.Random, depth: int) -> float:
        low, high = float(schema.get("minimum", 0.0)), float(schema.get("maximum", 1_000_000.0))
        return round(rng.uniform(low, high), 2)

    def _string(self, schema: dict[str, Any], rng: random.Random, depth: int) -> str:
        fmt = schema.get("format")
        if fmt == "date-time":
            moment = EPOCH + datetime.timedelta(seconds=rng.randint(0, DATA_DAYS * 86400))
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        if fmt == "date":
            return (EPOCH.date() + datetime.timedelta(days=rng.randint(0, DATA_DAYS))).isoformat()
        if fmt == "uuid":
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        length = max(int(schema.get("minLength", 0)), min(int(schema.get("maxLength", 12)), 12))
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(max(length, 1)))

    def _array(self, schema: dict[str, Any], rng: random.Random, depth: int) -> list[Any]:
        count = min(self.array_length if depth < 3 else 1, int(schema.get("maxItems", 10**6)))
        count = max(count, int(schema.get("minItems", 0)))
        values = [self._value(schema.get("items", {}), rng, depth + 1) for _ in range(count)]
        if schema.get("uniqueItems"):
            unique: list[Any] = []
            for value in values:
                if value not in unique:
                    unique.append(value)
            values = unique
        return values

    def _object(self, schema: dict[str, Any], rng: random.Random, depth: int) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        if not properties and isinstance(additional, dict):
            return {f"key{index}": self._value(additional, rng, depth + 1) for index in range(2)}
        return {name: self._member(name, member, rng, depth + 1) for name, member in properties.items()}

    def _member(self, name: str, schema: Any, rng: random.Random, depth: int) -> Any:
        if self.field_value is not None:
            value = self.field_value(name, self.resolve(schema), rng)
            if value is not self.nothing:
                return value
        return self._value(schema, rng, depth)
