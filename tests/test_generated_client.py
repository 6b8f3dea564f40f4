"""Every operation in the spec is generated, importable, carries its facts, and nothing extra."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from esi_generator.validate import iter_operations

RUNTIME_HEADER_ARGS = {
    "x_compatibility_date",
    "x_tenant",
    "accept_language",
    "if_none_match",
    "if_modified_since",
}
CALLABLES = ("sync", "sync_detailed", "asyncio", "asyncio_detailed")


def _spec_operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {op["operationId"]: (path, method, op) for path, method, op in iter_operations(spec)}


def test_every_spec_operation_is_an_importable_module(
    generated_client: Path, spec_document: dict[str, Any]
) -> None:
    from esi_client.operations import all_operations

    spec_ops = _spec_operations(spec_document)
    index = {operation.id: operation for operation in all_operations()}
    assert set(index) == set(spec_ops)
    module_files = [p for p in (generated_client / "api").glob("*/*.py") if p.name != "__init__.py"]
    aliases = [p for p in module_files if "CCP renamed" in p.read_text()[:300]]
    assert [p.stem for p in aliases] == ["get_characters_character_id"]  # esi_generator/renames.toml
    assert len(module_files) - len(aliases) == len(spec_ops) == 225

    imported = 0
    for operation in index.values():
        tag_package = importlib.import_module(f"esi_client.api.{operation.tag}")
        module = importlib.import_module(operation.module)
        assert getattr(tag_package, operation.python_name) is module  # from esi_client.api.<tag> import <op>
        for name in CALLABLES:
            assert callable(getattr(module, name)), f"{operation.id} lacks {name}"
        assert inspect.iscoroutinefunction(module.asyncio)
        imported += 1
    assert imported == len(spec_ops)


def test_shared_headers_are_not_arguments(generated_client: Path) -> None:
    from esi_client.operations import all_operations, load_module

    for operation in all_operations():
        module = load_module(operation)
        arguments = set(inspect.signature(module.sync).parameters)
        assert not arguments & RUNTIME_HEADER_ARGS, operation.id
        assert "client" in arguments
    header_models = [
        p.name
        for p in (generated_client / "models").glob("*.py")
        if p.stem.endswith(("_x_compatibility_date", "_accept_language"))
    ]
    assert header_models == []


def test_operation_facts_match_the_spec(generated_client: Path, spec_document: dict[str, Any]) -> None:
    from esi_client.operations import all_operations, load_module

    spec_ops = _spec_operations(spec_document)
    for operation in all_operations():
        path, method, spec_op = spec_ops[operation.id]
        assert (operation.method, operation.path) == (method.upper(), path)
        scopes = tuple(
            s for requirement in spec_op.get("security", []) for v in requirement.values() for s in v
        )
        assert operation.scopes == scopes
        assert operation.roles == tuple(spec_op.get("x-required-roles", ()))
        assert operation.cache_age == spec_op.get("x-cache-age")
        assert operation.compatibility_date == spec_op["x-compatibility-date"]
        limit = spec_op.get("x-rate-limit")
        if limit:
            assert operation.rate_limit is not None
            assert (operation.rate_limit.group, operation.rate_limit.max_tokens) == (
                limit["group"],
                limit["max-tokens"],
            )
        else:
            assert operation.rate_limit is None
        names = {p.get("name") for p in spec_op["parameters"]}
        expected_paging = (
            "cursor" if spec_op.get("x-pagination") == "cursor" else "page" if "page" in names else None
        )
        assert operation.paging == expected_paging
        assert operation == load_module(operation).OPERATION


def test_fact_counts(generated_client: Path) -> None:
    from esi_client.operations import all_operations

    operations = all_operations()
    assert sum(1 for op in operations if op.scopes) == 139
    assert sum(1 for op in operations if op.paging == "cursor") == 7
    assert sum(1 for op in operations if op.paging == "page") >= 30
    assert sum(1 for op in operations if op.roles) == 34


def test_operation_lookup(generated_client: Path) -> None:
    from esi_client.operations import get_operation

    assert get_operation("GetMarketsRegionIdOrders").python_name == "get_markets_region_id_orders"
    assert get_operation("get_markets_region_id_orders").id == "GetMarketsRegionIdOrders"
    with pytest.raises(LookupError, match="did you mean GetMarketsRegionIdOrders"):
        get_operation("MarketsRegionIdOrders")


def test_models_load_lazily(generated_client: Path) -> None:
    code = (
        "import sys\n"
        "from esi_client.api.market import get_markets_region_id_orders\n"
        "loaded = [m for m in sys.modules if m.startswith('esi_client.models.')]\n"
        "print(len(loaded), 'httpx2' in sys.modules)\n"
        "from esi_client.models import StatusGet\n"
        "print(StatusGet.__name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(out[0]) <= 3  # the order model and its enum, not all 600
    assert out[1] == "False"  # importing an operation does not import the HTTP stack
    assert out[2] == "StatusGet"


def test_models_package_lists_every_model(generated_client: Path) -> None:
    import esi_client.models as models

    files = {p.stem for p in (generated_client / "models").glob("*.py") if p.name != "__init__.py"}
    assert len(models.__all__) == len(files)
    with pytest.raises(AttributeError):
        models.NoSuchModel  # noqa: B018
