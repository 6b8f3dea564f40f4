"""A renamed operationId never breaks a user's import silently: CCP renamed
GetCharactersCharacterId to GetCharactersDetail (same GET route) between 2025-12-16 and
2026-08-04, which moved the generated module."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from esi_cli.app import app
from esi_generator.renames import applicable, load_renames, record_renames
from tests.support.fixtures import FakeESIServer

OLD_MODULE = "esi_client.api.character.get_characters_character_id"
NEW_MODULE = "esi_client.api.character.get_characters_detail"


def test_the_old_module_is_the_new_one_with_one_warning(fake_esi: FakeESIServer) -> None:
    """In a fresh interpreter: both import forms give the new module, warned about once."""
    script = f"""
import warnings, json
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    from esi_client.api.character import get_characters_character_id as old
    import {OLD_MODULE} as again
    from {OLD_MODULE} import sync, OPERATION
import {NEW_MODULE} as new
from esi_client import ESIClient
from tests.support.fixtures import FakeESIServer
client = ESIClient(app_name="t", contact="t@example.invalid", base_url={fake_esi.url!r})
print(json.dumps({{
    "same": old is new and again is new and sync is new.sync,
    "operation": OPERATION.id,
    "warnings": [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)],
    "name": old.sync(90000001, client=client).name,
}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["same"] and result["operation"] == "GetCharactersDetail"
    assert len(result["warnings"]) == 1, result["warnings"]
    assert "CCP renamed GetCharactersCharacterId to GetCharactersDetail" in result["warnings"][0]
    assert NEW_MODULE in result["warnings"][0]
    assert result["name"]


def test_esi_call_takes_the_old_id_with_a_note(cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    for asked in ("GetCharactersCharacterId", "get_characters_character_id"):
        result = runner.invoke(app, ["call", asked, "--character-id", "90000001", "--json"])
        assert result.exit_code == 0, result.output
        assert "CCP renamed GetCharactersCharacterId to GetCharactersDetail" in result.stderr
        assert json.loads(result.stdout)["name"]
    shown = runner.invoke(app, ["ops", "show", "GetCharactersCharacterId"])
    assert shown.exit_code == 0 and "GetCharactersDetail" in shown.stdout


def test_an_unknown_id_is_still_refused(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["call", "GetCharactersCharacterIdd"])
    assert result.exit_code != 0 and "no ESI operation" in result.output


def test_the_operations_index_knows_the_rename() -> None:
    from esi_client.operations import get_operation, renamed_to

    assert renamed_to("GetCharactersCharacterId") == "GetCharactersDetail"
    assert renamed_to("GetCharactersDetail") is None
    assert get_operation("GetCharactersCharacterId").id == "GetCharactersDetail"


def test_aliases_only_where_the_spec_lacks_the_old_id(spec_document: dict[str, Any]) -> None:
    """The older spec still has the old id: it gets no alias; the current one does."""
    from esi_generator.validate import iter_operations

    renames = load_renames()
    current = [op["operationId"] for _p, _m, op in iter_operations(spec_document)]
    assert applicable(renames, current) == {"GetCharactersCharacterId": "GetCharactersDetail"}
    older = [*[i for i in current if i != "GetCharactersDetail"], "GetCharactersCharacterId"]
    assert applicable(renames, older) == {}


def test_spec_diff_records_renames(tmp_path: Path, old_spec_path: Path, spec_path: Path) -> None:
    from esi_generator.diff import diff_specs
    from esi_generator.source import read_spec
    from esi_generator.validate import parse_spec

    diff = diff_specs(parse_spec(read_spec(str(old_spec_path))), parse_spec(read_spec(str(spec_path))))
    renames = tmp_path / "renames.toml"
    renames.write_text("# kept\n")
    assert record_renames(diff.renamed, renames) == [("GetCharactersCharacterId", "GetCharactersDetail")]
    assert record_renames(diff.renamed, renames) == []  # recorded once
    assert load_renames(renames) == {"GetCharactersCharacterId": "GetCharactersDetail"}
    assert renames.read_text().startswith("# kept\n")
