"""`esi spec diff` reports the changes users meet: enum values, maps, module moves, facts; and it
stays exact and bounded on unions, arrays and recursive schemas. Spec pairs are derived from the
pinned spec."""

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
JOURNAL = "CharactersCharacterIdWalletJournalGet"


def _journal_ref_type(spec: Spec) -> dict[str, Any]:
    schema: dict[str, Any] = spec["components"]["schemas"][JOURNAL]["items"]["properties"]["ref_type"]
    return schema


def _order_type(spec: Spec) -> dict[str, Any]:
    for parameter in spec["paths"]["/markets/{region_id}/orders"]["get"]["parameters"]:
        if parameter.get("name") == "order_type":
            schema: dict[str, Any] = parameter["schema"]
            return schema
    raise AssertionError("no order_type")


def _changes(old: Spec, mutate: Callable[[Spec], None]) -> list[tuple[str, str, str, bool]]:
    new = copy.deepcopy(old)
    mutate(new)
    return [(c.operation_id, c.kind, c.detail, c.breaking) for c in diff_specs(old, new).changes]


def test_response_enum_values_added_are_reported_as_notable(spec_document: Spec) -> None:
    def add(spec: Spec) -> None:
        _journal_ref_type(spec)["enum"] += ["new_ref_type_a", "new_ref_type_b"]

    [(operation, kind, detail, breaking)] = _changes(spec_document, add)
    assert (operation, kind, breaking) == ("GetCharactersCharacterIdWalletJournal", "response", False)
    assert "200[].ref_type" in detail and "new_ref_type_a, new_ref_type_b" in detail and "added" in detail


def test_request_enum_value_removed_is_breaking(spec_document: Spec, tmp_path: Path) -> None:
    def remove(spec: Spec) -> None:
        _order_type(spec)["enum"].remove("all")

    [(operation, kind, detail, breaking)] = _changes(spec_document, remove)
    assert (operation, kind, breaking) == ("GetMarketsRegionIdOrders", "parameter", True)
    assert "order_type" in detail and "all" in detail and "removed" in detail
    new = copy.deepcopy(spec_document)
    remove(new)
    old_path, new_path = tmp_path / "old.json", tmp_path / "new.json"
    old_path.write_text(json.dumps(spec_document))
    new_path.write_text(json.dumps(new))
    assert runner.invoke(app, ["spec", "diff", str(old_path), str(new_path), "--check"]).exit_code == 1


def test_request_enum_value_added_and_response_value_removed_are_not_breaking(spec_document: Spec) -> None:
    def change(spec: Spec) -> None:
        _order_type(spec)["enum"].append("both")
        _journal_ref_type(spec)["enum"].remove("bounty_prizes")

    changes = _changes(spec_document, change)
    assert len(changes) == 2 and not any(breaking for *_, breaking in changes)


def test_a_map_value_field_removed_is_reported(spec_document: Spec) -> None:
    def remove(spec: Spec) -> None:
        del spec["components"]["schemas"]["MetaChangelogEntry"]["properties"]["description"]

    changes = _changes(spec_document, remove)
    assert [(op, breaking) for op, _kind, _detail, breaking in changes] == [("GetMetaChangelog", True)]
    assert "200.changelog{}[].description" in changes[0][2]


def test_a_tag_change_that_moves_the_module_is_breaking(spec_document: Spec) -> None:
    def retag(spec: Spec) -> None:
        spec["paths"]["/status"]["get"]["tags"] = ["Server"]

    [(operation, kind, detail, breaking)] = _changes(spec_document, retag)
    assert (operation, kind, breaking) == ("GetStatus", "operation", True)
    assert "esi_client.api.status" in detail and "esi_client.api.server" in detail


def test_reordered_union_members_are_no_change(spec_document: Spec) -> None:
    def reorder(spec: Spec) -> None:
        claim = spec["components"]["schemas"]["SovereigntySystemsSolarsystem"]["properties"]["claim"]
        claim["oneOf"].reverse()

    assert _changes(spec_document, reorder) == []


def test_an_array_field_change_is_reported_once(spec_document: Spec) -> None:
    def retype(spec: Spec) -> None:
        spec["components"]["schemas"]["StatusGet"]["properties"]["codes"] = {
            "type": "array",
            "items": {"type": "integer"},
        }

    def retype_items(spec: Spec) -> None:
        retype(spec)
        spec["components"]["schemas"]["StatusGet"]["properties"]["codes"]["items"]["type"] = "string"

    before = copy.deepcopy(spec_document)
    retype(before)
    assert len(_changes(before, retype_items)) == 1
    assert len(_changes(spec_document, retype)) == 1  # added: the array, not also its items


def test_a_removed_optional_request_field_is_breaking(spec_document: Spec) -> None:
    def remove(spec: Spec) -> None:
        body = spec["paths"]["/fleets/{fleet_id}"]["put"]["requestBody"]["content"]["application/json"]
        del body["schema"]["properties"]["motd"]  # optional: callers that set it break

    [(operation, kind, detail, breaking)] = _changes(spec_document, remove)
    assert (operation, kind, breaking) == ("PutFleetsFleetId", "request", True)
    assert "body.motd" in detail


def test_facts_changes_are_non_breaking_notes(spec_document: Spec) -> None:
    def change(spec: Spec) -> None:
        status = spec["paths"]["/status"]["get"]
        status["x-rate-limit"]["max-tokens"] = 300
        status["x-cache-age"] = 60
        wallets = spec["paths"]["/corporations/{corporation_id}/wallets"]["get"]
        wallets["x-required-roles"] = ["Director"]

    changes = _changes(spec_document, change)
    assert {(op, kind, breaking) for op, kind, _detail, breaking in changes} == {
        ("GetStatus", "facts", False),
        ("GetCorporationsCorporationIdWallets", "facts", False),
    }
    text = " ".join(detail for _op, _kind, detail, _breaking in changes)
    assert "600" in text and "300" in text and "30" in text and "60" in text and "Director" in text


@pytest.mark.timeout(30)
def test_recursive_schemas_are_diffed_by_component_bounded(spec_document: Spec) -> None:
    def recursive(spec: Spec) -> None:
        spec["components"]["schemas"]["Node"] = {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "left": {"$ref": "#/components/schemas/Node"},
                "right": {"$ref": "#/components/schemas/Node"},
                "parent": {"$ref": "#/components/schemas/Node"},
            },
        }
        spec["components"]["schemas"]["StatusGet"]["properties"]["tree"] = {
            "$ref": "#/components/schemas/Node"
        }

    def add_field(spec: Spec) -> None:
        recursive(spec)
        spec["components"]["schemas"]["Node"]["properties"]["weight"] = {"type": "integer"}

    before = copy.deepcopy(spec_document)
    recursive(before)
    changes = _changes(before, add_field)
    assert [(op, detail) for op, _kind, detail, _breaking in changes] == [
        ("GetStatus", "added optional field 200.tree.weight")
    ]
