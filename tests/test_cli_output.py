"""The CLI's output as users meet it piped and at 80 columns: no wrapping into a pipe, operation
ids never truncated, errors in words (no Python class names) with the closest ids suggested."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect

from esi_client.operations import all_operations


def _esi(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "esi_cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "ESI_CONFIG": os.devnull, "COLUMNS": "80", **env},
        timeout=60,
    )


def test_piped_ops_lists_every_id_whole_one_per_line(generated_client: Path) -> None:
    result = _esi("ops")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    ids = {line.split("\t")[0] for line in lines}
    assert {operation.id for operation in all_operations()} <= ids
    assert all(len(line.split("\t")) == 4 for line in lines)


def test_ops_at_80_columns_never_truncates_an_id(generated_client: Path) -> None:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "esi_cli", "ops", "wallet"],
        env={**os.environ, "ESI_CONFIG": os.devnull, "COLUMNS": "80", "LINES": "50"},
        dimensions=(50, 80),
        encoding="utf-8",
        timeout=60,
    )
    output = child.read()
    child.close()
    wallet_ids = [op.id for op in all_operations() if "wallet" in f"{op.id} {op.path} {op.tag}".lower()]
    assert wallet_ids
    for operation_id in wallet_ids:
        assert operation_id in output, f"{operation_id} truncated:\n{output}"


def test_piped_output_does_not_wrap_long_lines(
    first_tree: Path, spec_path: Path, pin_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "esi_client"
    shutil.copytree(first_tree, output)
    result = _esi("generate", "--spec", str(spec_path), "--output", str(output), "--pin", str(pin_file))
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.strip().splitlines()
    assert "up to date" in line and len(line) > 80


def test_errors_are_words_with_the_closest_ids(generated_client: Path) -> None:
    unknown = _esi("call", "GetMarketRegionOrders")
    assert unknown.returncode == 2
    assert "LookupError" not in unknown.stderr and "error:" in unknown.stderr
    assert "GetMarketsRegionIdOrders" in unknown.stderr  # the closest, though not a substring
    bad_value = _esi("call", "GetMarketsRegionIdOrders", "--region-id", "forge", "--order-type", "all")
    assert bad_value.returncode == 2
    assert "ValueError" not in bad_value.stderr and "--region-id" in bad_value.stderr
