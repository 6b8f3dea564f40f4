"""A wheel build runs the generator, so an installed wheel contains the whole client."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_contains_the_generated_client(tmp_path: Path, spec_path: Path) -> None:
    source = tmp_path / "src"
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    for name in tracked:  # a checkout as a fresh clone has it: no generated client
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    env = {**os.environ, "ESI_SPEC": str(spec_path)}
    uv = shutil.which("uv")
    command = (
        [uv, "build", "--wheel", "-o", str(tmp_path / "dist")]
        if uv
        else [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path / "dist"), "."]
    )
    subprocess.run(command, cwd=source, env=env, check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("esikit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    operations = [
        n
        for n in names
        if n.startswith("esi_client/api/") and n.count("/") == 3 and not n.endswith("__init__.py")
    ]
    # every operation, and the deprecated alias of the one CCP renamed (esi_generator/renames.toml)
    assert len(operations) == 225 + 1
    assert "esi_client/api/character/get_characters_character_id.py" in operations
    assert "esi_generator/renames.toml" in names
    assert {"esi_client/api/_index.py", "esi_client/models/__init__.py", "esi_generator/pin.toml"} <= names
    # typed for mypy and editors (PEP 561), the generated client included
    assert {
        f"{package}/py.typed"
        for package in ("esi_client", "esi_auth", "esi_cli", "esi_fake", "esi_proxy", "esi_generator")
    } <= names
    # the spec it was built from, so the fake and diffs work offline after install
    assert "esi_generator/shipped-spec.json" in names
    assert not any("/.gen-" in n for n in names)
    # Nothing generic at the top level of users' environments: every package is esikit's own.
    top_level = {n.split("/")[0] for n in names if "/" in n and ".dist-info" not in n}
    assert top_level == {"esi_client", "esi_auth", "esi_cli", "esi_fake", "esi_proxy", "esi_generator"}
