"""`esi generate`: deterministic, a no-op when current, and a clear error for a bad spec."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from esi_cli.app import app
from esi_generator import SpecError, generate
from esi_generator.pin import load_pin
from esi_generator.source import canonical_sha256

runner = CliRunner()


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for name in ("api", "models")
        for path in sorted((root / name).rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_generation_is_deterministic(
    first_tree: Path, spec_path: Path, pin_file: Path, tmp_path: Path
) -> None:
    second = tmp_path / "second" / "esi_client"
    result = generate(str(spec_path), output_dir=second, pin_path=pin_file, force=True)
    assert not result.skipped
    first_digest, second_digest = tree_digest(first_tree), tree_digest(second)
    assert len(first_digest) > 800
    assert first_digest == second_digest


def test_unchanged_inputs_do_no_work(
    first_tree: Path, spec_path: Path, pin_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "esi_client"
    shutil.copytree(first_tree, output)
    before = {p: p.stat().st_mtime_ns for p in output.rglob("*.py")}
    result = generate(str(spec_path), output_dir=output, pin_path=pin_file)
    assert result.skipped
    assert {p: p.stat().st_mtime_ns for p in output.rglob("*.py")} == before


def test_cli_reports_counts(first_tree: Path, spec_path: Path, pin_file: Path, tmp_path: Path) -> None:
    output = tmp_path / "esi_client"
    result = runner.invoke(
        app, ["generate", "--spec", str(spec_path), "--output", str(output), "--pin", str(pin_file)]
    )
    assert result.exit_code == 0, result.output
    assert "Generated 225 of 225 operations" in result.output
    assert "0 warnings" in result.output
    again = runner.invoke(
        app, ["generate", "--spec", str(spec_path), "--output", str(output), "--pin", str(pin_file)]
    )
    assert "up to date" in again.output


def _mutated(spec: dict[str, Any], tmp_path: Path, name: str, text: str | None = None) -> Path:
    path = tmp_path / name
    path.write_text(text if text is not None else json.dumps(spec), encoding="utf-8")
    return path


def _bad_specs(spec: dict[str, Any], tmp_path: Path) -> dict[str, tuple[Path, str]]:
    no_openapi = json.loads(json.dumps(spec))
    no_openapi["openapi"] = "2.0"
    dangling = json.loads(json.dumps(spec))
    dangling["paths"]["/status"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/NoSuchSchema"
    }
    no_id = json.loads(json.dumps(spec))
    del no_id["paths"]["/markets/{region_id}/orders"]["get"]["operationId"]
    return {
        "not-json": (_mutated(spec, tmp_path, "a.json", '{"openapi": "3.1.0", '), "not valid JSON"),
        "not-openapi-3": (_mutated(no_openapi, tmp_path, "b.json"), "#/openapi: not an OpenAPI 3.x document"),
        "dangling-ref": (
            _mutated(dangling, tmp_path, "c.json"),
            "#/paths/~1status/get/responses/200/content/application~1json/schema/$ref: "
            "$ref '#/components/schemas/NoSuchSchema' does not resolve",
        ),
        "no-operation-id": (
            _mutated(no_id, tmp_path, "d.json"),
            "#/paths/~1markets~1{region_id}~1orders/get: the operation has no operationId",
        ),
    }


@pytest.mark.parametrize("case", ["not-json", "not-openapi-3", "dangling-ref", "no-operation-id"])
def test_bad_spec_is_one_clear_error_and_keeps_the_client(
    case: str, first_tree: Path, spec_document: dict[str, Any], pin_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "esi_client"
    shutil.copytree(first_tree, output)
    before = tree_digest(output)
    bad_path, expected = _bad_specs(spec_document, tmp_path)[case]
    result = runner.invoke(
        app,
        [
            "generate",
            "--spec",
            str(bad_path),
            "--output",
            str(output),
            "--pin",
            str(pin_file),
            "--update-pin",
        ],
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {bad_path}")
    assert expected in lines[0]
    assert tree_digest(output) == before
    assert not list(output.glob(".gen-*"))


def test_bad_spec_leaves_the_pin_alone(spec_document: dict[str, Any], pin_file: Path, tmp_path: Path) -> None:
    before = pin_file.read_text()
    bad_path, _ = _bad_specs(spec_document, tmp_path)["dangling-ref"]
    with pytest.raises(SpecError):
        generate(str(bad_path), output_dir=tmp_path / "out", pin_path=pin_file, update_pin_to_spec=True)
    assert pin_file.read_text() == before


def test_sha_mismatch_needs_update_pin(old_spec_path: Path, pin_file: Path, tmp_path: Path) -> None:
    output = tmp_path / "esi_client"
    refused = runner.invoke(
        app, ["generate", "--spec", str(old_spec_path), "--output", str(output), "--pin", str(pin_file)]
    )
    assert refused.exit_code == 2
    assert "differs from the pinned" in refused.output and "--update-pin" in refused.output
    assert not output.exists() or not (output / "api").exists()

    accepted = runner.invoke(
        app,
        [
            "generate",
            "--spec",
            str(old_spec_path),
            "--output",
            str(output),
            "--pin",
            str(pin_file),
            "--update-pin",
        ],
    )
    assert accepted.exit_code == 0, accepted.output
    assert "Generated 208 of 208 operations" in accepted.output
    pin = load_pin(pin_file)
    assert pin.compatibility_date == "2025-12-16"
    assert pin.sha256 == canonical_sha256(old_spec_path.read_bytes())


def test_regenerating_on_a_new_spec_prints_the_diff(
    old_spec_path: Path, spec_path: Path, pin_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "esi_client"
    common = ["--output", str(output), "--pin", str(pin_file), "--update-pin"]
    assert runner.invoke(app, ["generate", "--spec", str(old_spec_path), *common]).exit_code == 0
    result = runner.invoke(app, ["generate", "--spec", str(spec_path), *common])
    assert result.exit_code == 0, result.output
    assert "Generated 225 of 225 operations" in result.output
    assert "2025-12-16 -> 2026-08-04: 19 operations added, 2 removed, 1 renamed" in result.output
    assert "GetCharactersDetail" in result.output and "renamed from GetCharactersCharacterId" in result.output
    assert load_pin(pin_file).compatibility_date == "2026-08-04"
