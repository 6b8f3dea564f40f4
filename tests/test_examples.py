"""Every example runs, against the fake ESI it starts itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# The web examples are sites that serve until stopped: tests/test_web_views.py drives them.
EXAMPLES = sorted(
    path
    for path in (Path(__file__).resolve().parent.parent / "examples").glob("*.py")
    if not path.stem.startswith("web_")
)


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(example: Path, generated_client: object) -> None:
    result = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_demo_reports_what_happened(generated_client: object) -> None:
    demo = Path(__file__).resolve().parent.parent / "examples" / "demo.py"
    output = subprocess.run(
        [sys.executable, str(demo)], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert "Logged in as Fake Pilot (90000001)" in output
    assert "Fake Pilot (90000001)" in output.split("$ esi tokens list", 1)[1]
    assert "(token chosen by ESIAuth)" in output
    assert "from cache = True" in output
    assert "20000 orders on 20 pages" in output
    assert "420s: 0" in output
