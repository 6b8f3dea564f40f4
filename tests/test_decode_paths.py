"""Both decode paths agree on wrong-typed bodies: each raises, naming the same JSON path, and
that path is where the body was broken.

Bodies come from each wire operation's schema (tests/support/schema_strategies.py); one scalar whose
schema is a plain type (not a union) is replaced by a value of another type.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from esi_client import BadResponseError
from esi_client.decoding.fast_path import ModelParser, WireMismatch
from tests.support.schema_strategies import _resolve, from_schema
from tests.test_model_roundtrip import _json_operations

WRONG = {"integer": "12", "number": "1.5", "boolean": 0, "string": 12}


def leaves(data: Any, schema: Any, document: dict[str, Any], path: str = "") -> list[tuple[str, str]]:
    """(JSON path, JSON type) of every scalar whose schema is one plain type."""
    schema = _resolve(schema, document)
    if "oneOf" in schema or "anyOf" in schema or isinstance(schema.get("type"), list):
        return []
    kind = schema.get("type", "object")
    if kind == "array" and isinstance(data, list):
        found = []
        for index, item in enumerate(data):
            found += leaves(item, schema.get("items", {}), document, f"{path}[{index}]")
        return found
    if kind == "object" and isinstance(data, dict):
        found = []
        for key, prop in (schema.get("properties") or {}).items():
            if key in data:
                found += leaves(data[key], prop, document, f"{path}.{key}" if path else key)
        return found
    return [(path, kind)] if kind in WRONG else []


def put(data: Any, path: str, value: Any) -> Any:
    """`data` with the value at `path` replaced."""
    import re

    parts = [int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"\[\d+\]|[^.\[\]]+", path)]
    if not parts:
        return value
    node = data
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    return data


def _wire_cases() -> list[tuple[str, dict[str, Any]]]:
    import json

    from esi_client.operations import get_operation, load_module
    from tests.conftest import _spec_path

    spec = json.loads(_spec_path().read_bytes())
    cases = []
    for operation_id, schema in _json_operations(spec):
        parser = load_module(get_operation(operation_id))._parse
        if isinstance(parser, ModelParser) and parser.has_wire:
            cases.append((operation_id, schema))
    return cases


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "wire_operation" in metafunc.fixturenames:
        cases = _wire_cases()
        metafunc.parametrize("wire_operation", cases, ids=[case[0] for case in cases])


def test_both_paths_name_the_broken_path(
    wire_operation: tuple[str, dict[str, Any]],
    spec_document: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import esi_client.decoding.decode as decode
    from esi_client.operations import get_operation, load_module

    operation_id, schema = wire_operation
    operation = get_operation(operation_id)
    module = load_module(operation)
    monkeypatch.setattr(decode, "BIG_BODY_BYTES", 0)  # every body takes the fast path first

    @settings(
        max_examples=8,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(from_schema(schema, spec_document), st.data())
    def broken(data: Any, draw: st.DataObject) -> None:
        found = leaves(data, schema, spec_document)
        assume(found)  # a body with no plain scalar (an empty list) cannot be broken this way
        checked.append(operation_id)
        path, kind = draw.draw(st.sampled_from(found))
        body = orjson.dumps(put(data, path, WRONG[kind]))
        with pytest.raises(WireMismatch):
            module._parse.decode_bytes(body)
        with pytest.raises(BadResponseError) as fast:
            decode.decode_and_parse(operation, module._parse, body)
        with pytest.raises(BadResponseError) as slow:
            decode.parse_body(operation, module._parse, orjson.loads(body))
        assert fast.value.path == slow.value.path == path, operation_id
        assert fast.value.value == WRONG[kind]

    checked: list[str] = []
    broken()
    assert len(checked) >= 4, f"{operation_id}: only {len(checked)} bodies could be broken"


@pytest.mark.parametrize("value", [2**64, 2**70, -(2**63) - 1, 10**30])
def test_both_paths_refuse_an_integer_beyond_64_bits(value: int) -> None:
    """msgspec reads any integer exactly, orjson turns one beyond 64 bits into a float: both
    paths must say the same (a BadResponseError naming the field), for big and small bodies."""
    from esi_client.api.market import get_markets_region_id_orders
    from esi_client.decoding.decode import decode_and_parse
    from tests.test_hostile_paging import order

    operation = get_markets_region_id_orders.OPERATION
    parse = get_markets_region_id_orders._parse  # the ModelParser: both paths
    for count in (1, 1000):  # the checked path, then the fast path
        orders = [order(n) for n in range(count)]
        orders[-1]["order_id"] = value
        body = json.dumps(orders).encode()  # orjson cannot write integers beyond 64 bits
        with pytest.raises(BadResponseError, match="order_id"):
            decode_and_parse(operation, parse, body)


@pytest.mark.parametrize("value", [2**63 - 1, 2**64 - 1, -(2**63)])
def test_both_paths_read_64_bit_integers_exactly(value: int) -> None:
    from esi_client.api.market import get_markets_region_id_orders
    from esi_client.decoding.decode import decode_and_parse
    from tests.test_hostile_paging import order

    operation = get_markets_region_id_orders.OPERATION
    parse = get_markets_region_id_orders._parse  # the ModelParser: both paths
    for count in (1, 1000):
        orders = [order(n) for n in range(count)]
        orders[-1]["order_id"] = value
        parsed = decode_and_parse(operation, parse, json.dumps(orders).encode())
        assert parsed[-1].order_id == value and type(parsed[-1].order_id) is int
