"""Regenerating cannot leave things half-moved: the pin and cache move only after the new client
is in place; a killed run leaves nothing behind that breaks the next; the pin names the document,
not its bytes; "up to date" is checked file by file; specs that would corrupt the client are refused."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from esi_cli.app import app
from esi_generator import SpecError, generate, load_pin, resolve_spec
from tests.support.hostile_server import HostileServer, silent
from tests.support.recording_server import Reply, recording_server
from tests.test_generate_command import tree_digest

runner = CliRunner()


def _write(tmp_path: Path, name: str, document: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _colliding(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec plus an operation whose id makes the same module name as GetStatus."""
    colliding: dict[str, Any] = json.loads(json.dumps(spec))
    status = colliding["paths"]["/status"]["get"]
    colliding["paths"]["/status2"] = {"get": {**status, "operationId": "get_status"}}
    return colliding


def _generate(*args: str) -> Any:
    return runner.invoke(app, ["generate", *args])


def test_a_killed_update_pin_run_leaves_the_pin_and_the_next_run_works(
    spec_path: Path, old_spec_path: Path, pin_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "esi_client"
    common = ["--output", str(output), "--pin", str(pin_file)]
    assert _generate("--spec", str(spec_path), *common).exit_code == 0
    pin_before = pin_file.read_text()
    process = subprocess.Popen(
        [sys.executable, "-m", "esi_cli", "generate", "--spec", str(old_spec_path), *common, "--update-pin"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not list(output.glob(".gen-*")):  # generating into its staging folder
        assert process.poll() is None and time.monotonic() < deadline, "the run ended before it was killed"
        time.sleep(0.02)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert pin_file.read_text() == pin_before, "the pin moved before the new client was in place"
    old_sha = resolve_spec(load_pin(pin_file), str(old_spec_path), check_pin=False).sha256
    assert not (pin_file.parent / ".cache" / f"{old_sha}.json").exists(), "the spec was cached before"
    again = _generate("--spec", str(spec_path), *common)
    assert again.exit_code == 0, again.output
    assert "up to date" in again.output
    assert not list(output.glob(".gen-*")), "the killed run's staging folder was left behind"


def test_a_failed_update_pin_run_does_not_cache_or_pin_the_spec(
    spec_document: dict[str, Any], pin_file: Path, tmp_path: Path
) -> None:
    path = _write(tmp_path, "colliding.json", _colliding(spec_document))
    pin_before = pin_file.read_text()
    result = _generate(
        "--spec", str(path), "--output", str(tmp_path / "out"), "--pin", str(pin_file), "--update-pin"
    )
    assert result.exit_code == 2
    assert pin_file.read_text() == pin_before
    colliding_sha = resolve_spec(load_pin(pin_file), str(path), check_pin=False).sha256
    assert not (pin_file.parent / ".cache" / f"{colliding_sha}.json").exists()


def test_two_operation_ids_with_one_module_name_are_refused_naming_both(
    spec_document: dict[str, Any], pin_file: Path, tmp_path: Path
) -> None:
    path = _write(tmp_path, "colliding.json", _colliding(spec_document))
    result = _generate(
        "--spec", str(path), "--output", str(tmp_path / "out"), "--pin", str(pin_file), "--update-pin"
    )
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert len(line.splitlines()) == 1 and "GetStatus" in line and "get_status" in line


def test_the_pin_names_the_document_so_minified_is_the_same_spec(
    spec_path: Path, pin_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ESI_SPEC", raising=False)
    minified = orjson.dumps(json.loads(spec_path.read_bytes()))
    assert len(minified) < spec_path.stat().st_size * 0.8
    pin = load_pin(pin_file)
    with recording_server() as server:
        server.replies["/meta/openapi.json"] = Reply(body=minified)
        text = pin_file.read_text().replace(pin.url_template.split("/meta/")[0], server.url)
        pin_file.write_text(text)
        downloaded = resolve_spec(load_pin(pin_file))  # as a fresh checkout downloads by the pin
    assert downloaded.sha256 == resolve_spec(load_pin(pin_file), str(spec_path)).sha256


@pytest.mark.timeout(40)
def test_a_silent_server_times_out_in_seconds_and_suggests_a_local_spec(
    server: HostileServer, pin_file: Path
) -> None:
    server.on("GET /spec.json", silent(120))
    with pytest.raises(SpecError) as caught:
        resolve_spec(load_pin(pin_file), f"{server.url}/spec.json", check_pin=False)
    assert "--spec" in str(caught.value) and "ESI_SPEC" in str(caught.value)


def test_offline_download_suggests_a_local_spec(pin_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ESI_SPEC", raising=False)
    with recording_server() as server:
        url = server.url
    pin_file.write_text(pin_file.read_text().replace("https://esi.evetech.net", url))
    result = _generate("--pin", str(pin_file), "--output", str(pin_file.parent / "out"))
    assert result.exit_code == 2
    assert "--spec" in result.output and "ESI_SPEC" in result.output


@pytest.mark.parametrize("damage", ["delete-module", "corrupt-model", "stray-module"])
def test_up_to_date_is_checked_file_by_file(
    damage: str, first_tree: Path, spec_path: Path, pin_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "esi_client"
    shutil.copytree(first_tree, output)
    before = tree_digest(output)
    if damage == "delete-module":
        next((output / "api" / "status").glob("get_status.py")).unlink()
    elif damage == "corrupt-model":
        model = sorted((output / "models").glob("*.py"))[5]
        model.write_text(model.read_text() + "\nraise SystemExit\n")
    else:
        (output / "api" / "status" / "leftover.py").write_text("x = 1\n")
    result = generate(str(spec_path), output_dir=output, pin_path=pin_file)
    assert not result.skipped
    assert tree_digest(output) == before


def test_a_spec_without_operations_is_refused(
    spec_document: dict[str, Any], pin_file: Path, tmp_path: Path
) -> None:
    empty = {**spec_document, "paths": {}}
    result = _generate("--spec", str(_write(tmp_path, "empty.json", empty)), "--pin", str(pin_file),
                       "--output", str(tmp_path / "out"), "--update-pin")  # fmt: skip
    assert result.exit_code == 2
    assert "no operations" in result.output


def test_an_openapi_30_document_is_refused_in_one_line(
    spec_document: dict[str, Any], pin_file: Path, tmp_path: Path
) -> None:
    old = {**spec_document, "openapi": "3.0.1"}
    result = _generate("--spec", str(_write(tmp_path, "v30.json", old)), "--pin", str(pin_file),
                       "--output", str(tmp_path / "out"), "--update-pin")  # fmt: skip
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "3.0" in result.output and "3.1" in result.output  # what it is, and what is supported


def _staging_of_a_dead_process(output: Path) -> Path:
    """A staging folder as a killed run leaves it: named for a process that no longer runs."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    staging = output / f".gen-{child.pid}-leftover"
    (staging / "esi_client").mkdir(parents=True)
    return staging


def test_staging_left_by_a_dead_run_is_cleaned_and_a_live_ones_kept(
    first_tree: Path, spec_path: Path, pin_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "esi_client"
    shutil.copytree(first_tree, output)
    dead = _staging_of_a_dead_process(output)
    live = output / f".gen-{os.getpid()}-running"
    live.mkdir()
    generate(str(spec_path), output_dir=output, pin_path=pin_file)
    assert not dead.exists() and live.exists()


def _broken(spec: dict[str, Any], case: str) -> tuple[dict[str, Any], str]:
    """A spec broken one way, and the location its error must name."""
    broken: dict[str, Any] = json.loads(json.dumps(spec))
    operation = broken["paths"]["/status"]["get"]
    if case == "parameter-ref-cycle":
        broken["components"]["parameters"]["LoopA"] = {"$ref": "#/components/parameters/LoopB"}
        broken["components"]["parameters"]["LoopB"] = {"$ref": "#/components/parameters/LoopA"}
        operation["parameters"].append({"$ref": "#/components/parameters/LoopA"})
        return broken, "#/components/parameters/Loop"
    if case == "string-path-item":
        broken["paths"]["/oops"] = "not a path item"
        return broken, "#/paths/~1oops"
    if case == "rate-limit-window-1w":
        operation["x-rate-limit"]["window-size"] = "1w"
        return broken, "#/paths/~1status/get/x-rate-limit"
    if case == "rate-limit-without-max-tokens":
        del operation["x-rate-limit"]["max-tokens"]
        return broken, "#/paths/~1status/get/x-rate-limit"
    if case == "rate-limit-as-string":
        operation["x-rate-limit"] = "status"
        return broken, "#/paths/~1status/get/x-rate-limit"
    if case == "roles-as-string":
        wallet = broken["paths"]["/corporations/{corporation_id}/wallets"]["get"]
        wallet["x-required-roles"] = "Accountant"
        return broken, "#/paths/~1corporations~1{corporation_id}~1wallets/get/x-required-roles"
    if case in ("pagination-cursors", "pagination-number"):
        jobs = broken["paths"]["/freelance-jobs"]["get"]
        jobs["x-pagination"] = "cursors" if case == "pagination-cursors" else 1
        return broken, "#/paths/~1freelance-jobs/get/x-pagination"
    raise AssertionError(case)


BROKEN = [
    "pagination-cursors",
    "pagination-number",
    "parameter-ref-cycle",
    "string-path-item",
    "rate-limit-window-1w",
    "rate-limit-without-max-tokens",
    "rate-limit-as-string",
    "roles-as-string",
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", BROKEN)
def test_a_malformed_spec_is_one_line_naming_the_location(
    case: str, spec_document: dict[str, Any], spec_path: Path, pin_file: Path, tmp_path: Path
) -> None:
    broken, location = _broken(spec_document, case)
    path = _write(tmp_path, "broken.json", broken)
    generated = _generate("--spec", str(path), "--pin", str(pin_file), "--output", str(tmp_path / "out"),
                          "--update-pin")  # fmt: skip
    compared = runner.invoke(app, ["spec", "diff", str(spec_path), str(path)])
    for result in (generated, compared):
        assert result.exit_code == 2, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert location in result.output, result.output
