"""`esi spec diff` on spec pairs derived from the real spec, and on the real older spec."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from esi_cli.app import app
from esi_generator import diff_specs

runner = CliRunner()
Spec = dict[str, Any]


def remove_operation(spec: Spec) -> None:
    del spec["paths"]["/status"]["get"]


def add_required_parameter(spec: Spec) -> None:
    spec["paths"]["/markets/prices"]["get"]["parameters"].append(
        {"in": "query", "name": "region_id", "required": True, "schema": {"type": "integer"}}
    )


def add_optional_parameter(spec: Spec) -> None:
    spec["paths"]["/markets/prices"]["get"]["parameters"].append(
        {"in": "query", "name": "station_id", "schema": {"type": "integer"}}
    )


def change_field_type(spec: Spec) -> None:
    spec["components"]["schemas"]["StatusGet"]["properties"]["players"]["type"] = "string"


def add_optional_field(spec: Spec) -> None:
    spec["components"]["schemas"]["StatusGet"]["properties"]["motd"] = {"type": "string"}


def change_scope(spec: Spec) -> None:
    operation = spec["paths"]["/characters/{character_id}/wallet"]["get"]
    operation["security"] = [{"OAuth2": ["esi-wallet.read_character_wallet.v2"]}]


CASES: dict[str, tuple[Callable[[Spec], None], str, str, bool]] = {
    "remove-operation": (remove_operation, "GetStatus", "removed: GET /status", True),
    "add-required-parameter": (
        add_required_parameter,
        "GetMarketsPrices",
        "added required query region_id (integer)",
        True,
    ),
    "add-optional-parameter": (
        add_optional_parameter,
        "GetMarketsPrices",
        "added optional query station_id (integer)",
        False,
    ),
    "change-field-type": (change_field_type, "GetStatus", "200.players: type integer -> string", True),
    "add-optional-field": (add_optional_field, "GetStatus", "added optional field 200.motd", False),
    "change-scope": (
        change_scope,
        "GetCharactersCharacterIdWallet",
        "now requires esi-wallet.read_character_wallet.v2; "
        "no longer requires esi-wallet.read_character_wallet.v1",
        True,
    ),
}


@pytest.fixture
def write_pair(tmp_path: Path, spec_document: Spec) -> Callable[[Callable[[Spec], None]], tuple[Path, Path]]:
    def write(mutate: Callable[[Spec], None]) -> tuple[Path, Path]:
        new = copy.deepcopy(spec_document)
        mutate(new)
        old_path, new_path = tmp_path / "old.json", tmp_path / "new.json"
        old_path.write_text(json.dumps(spec_document))
        new_path.write_text(json.dumps(new))
        return old_path, new_path

    return write


@pytest.mark.parametrize("case", sorted(CASES))
def test_derived_change_is_found_and_classified(case: str, spec_document: Spec) -> None:
    mutate, operation_id, detail, breaking = CASES[case]
    new = copy.deepcopy(spec_document)
    mutate(new)
    diff = diff_specs(spec_document, new)
    assert [(c.operation_id, c.detail, c.breaking) for c in diff.changes] == [
        (operation_id, detail, breaking)
    ]


def test_identical_specs_have_no_changes(spec_document: Spec) -> None:
    assert diff_specs(spec_document, copy.deepcopy(spec_document)).is_empty


@pytest.mark.parametrize("case", sorted(CASES))
def test_check_exit_status(
    case: str, write_pair: Callable[[Callable[[Spec], None]], tuple[Path, Path]]
) -> None:
    mutate, _operation_id, _detail, breaking = CASES[case]
    old_path, new_path = write_pair(mutate)
    result = runner.invoke(app, ["spec", "diff", str(old_path), str(new_path), "--check"])
    assert result.exit_code == (1 if breaking else 0), result.output


def test_formats(write_pair: Callable[[Callable[[Spec], None]], tuple[Path, Path]]) -> None:
    old_path, new_path = write_pair(remove_operation)
    text = runner.invoke(app, ["spec", "diff", str(old_path), str(new_path)])
    assert "BREAKING  GetStatus  [operation] removed: GET /status" in text.output
    markdown = runner.invoke(app, ["spec", "diff", str(old_path), str(new_path), "--format", "markdown"])
    assert "| `GetStatus` | operation | removed: GET /status | **yes** |" in markdown.output
    as_json = json.loads(
        runner.invoke(app, ["spec", "diff", str(old_path), str(new_path), "-f", "json"]).output
    )
    assert as_json["removed"] == ["GetStatus"]
    assert as_json["breaking"] == 1
    bad = runner.invoke(app, ["spec", "diff", str(old_path), str(new_path), "-f", "yaml"])
    assert bad.exit_code == 2


def test_real_older_spec(old_spec_path: Path, spec_path: Path, spec_document: Spec) -> None:
    old = json.loads(old_spec_path.read_bytes())
    diff = diff_specs(old, spec_document)
    assert diff.renamed == [("GetCharactersCharacterId", "GetCharactersDetail")]
    assert "GetSovereigntyMap" in diff.removed and "GetMetaName" in diff.added
    old_count = sum(1 for p in old["paths"].values() for m in p if m in ("get", "post", "put", "delete"))
    assert len(diff.added) - len(diff.removed) == 225 - old_count
    assert any(
        c.operation_id == "GetCorporationsCorporationId" and "tax_rate" in c.detail and c.breaking
        for c in diff.changes
    )
    notifications = [c for c in diff.changes if c.operation_id == "GetCharactersCharacterIdNotifications"]
    assert any("200[].type: enum values added" in c.detail and not c.breaking for c in notifications)
    assert "FreelanceProjectACLDeleted" in " ".join(c.detail for c in notifications)
    result = runner.invoke(app, ["spec", "diff", str(old_spec_path), str(spec_path), "--check"])
    assert result.exit_code == 1


def test_missing_spec_file_is_a_clear_error(tmp_path: Path, spec_path: Path) -> None:
    result = runner.invoke(app, ["spec", "diff", str(tmp_path / "nope.json"), str(spec_path)])
    assert result.exit_code == 2
    assert "nope.json: no such file" in result.output
