"""Responses generated from each operation's JSON schema parse and round-trip through the models,
and the fast path (msgspec into the wire mirror, for big bodies) parses them to the same models.

Normalisation (documented in the README): date-time strings compare as instants, since
`to_dict` writes `isoformat()` (`+00:00`) where ESI writes `Z`.
"""

from __future__ import annotations

import datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings

from esi_client.decoding.fast_path import ModelParser, WireMismatch
from esi_client.types import to_jsonable
from esi_generator.validate import iter_operations
from tests.support.schema_strategies import from_schema


def _json_operations(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    result = []
    for _path, _method, operation in iter_operations(spec):
        for status, response in sorted(operation["responses"].items()):
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if status.startswith("2") and schema is not None:
                result.append((operation["operationId"], schema))
                break
    return result


def normalise(value: Any) -> Any:
    if type(value) is int and abs(value) > 2**53:
        return float(value)  # a whole number in a number field: the model holds the nearest float
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if isinstance(value, str) and len(value) >= 20 and value[4:5] == "-" and value[10:11] == "T":
        try:
            return datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def typed(value: Any) -> Any:
    """The value with every scalar paired with its type: 5 and 5.0 differ here."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def has_extra_keys(value: Any) -> bool:
    """Whether the strategy added keys the schema does not name (they start with `x_`)."""
    if isinstance(value, dict):
        return any(key.startswith("x_") or has_extra_keys(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_extra_keys(item) for item in value)
    return False


def without_extra_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: without_extra_keys(item) for key, item in value.items() if not key.startswith("x_")}
    if isinstance(value, list):
        return [without_extra_keys(item) for item in value]
    return value


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "json_operation" in metafunc.fixturenames:
        import json

        from tests.conftest import _spec_path

        spec = json.loads(_spec_path().read_bytes())
        cases = _json_operations(spec)
        metafunc.parametrize("json_operation", cases, ids=[case[0] for case in cases])


def test_responses_round_trip(
    json_operation: tuple[str, dict[str, Any]], spec_document: dict[str, Any], generated_client: object
) -> None:
    from esi_client.operations import get_operation, load_module

    operation_id, schema = json_operation
    module = load_module(get_operation(operation_id))

    @settings(
        max_examples=6,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(from_schema(schema, spec_document))
    def round_trip(data: Any) -> None:
        parsed = module._parse(data)
        again = to_jsonable(parsed)
        assert normalise(again) == normalise(data), f"{operation_id}: round trip changed the data"
        assert module._parse(again) == parsed, f"{operation_id}: parsing the round-tripped data differs"
        parser = module._parse
        if isinstance(parser, ModelParser) and parser.has_wire:
            if has_extra_keys(data):
                with pytest.raises(WireMismatch, match="unknown field"):
                    parser.decode_bytes(orjson.dumps(data))
            exact = without_extra_keys(data)
            fast = parser.decode_bytes(orjson.dumps(exact))
            slow = module._parse(exact)
            assert typed(to_jsonable(fast)) == typed(to_jsonable(slow)), f"{operation_id}: fast path differs"

    round_trip()
