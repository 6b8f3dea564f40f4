"""A client no one here wrote, against `esi fake-server` started as a separate process with an app
registered on its command line: django-esi 10, in a venv of its own, configured only through its
own settings. It loads CCP's spec from the fake, calls status, reads every page of market orders,
walks a cursor backwards to its end, logs in through its own views against the fake SSO, calls an
authenticated operation and refreshes (tests/support/django_esi_probe.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testbed.servers import fake_server_process

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".nox" / "conformance-django-esi"  # kept between runs: the install is the slow part
CALLBACK = "http://127.0.0.1:9/sso/callback/"  # django-esi's callback view (never reached by a browser)


@pytest.fixture(scope="module")
def django_esi_python() -> Path:
    python = VENV / "bin" / "python"
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not installed (.ci/run installs it with nox[uv])")
    if not python.exists():
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(VENV)], check=True)
    result = subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), "django-esi>=10,<11"],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:  # CI must not skip this: a failed install fails the test
        pytest.fail(f"django-esi could not be installed: {result.stderr[-2000:]}")
    return python


@pytest.fixture(scope="module")
def standalone_fake(spec_path: Path) -> Iterator[str]:
    with fake_server_process(
        spec_path, "--market-pages", "3", "--app", f"conformance-app:s3cret={CALLBACK}"
    ) as url:
        yield url


@pytest.mark.slow
def test_django_esi_uses_the_fake(django_esi_python: Path, standalone_fake: str, redis_url: str) -> None:
    probe = Path(__file__).parent / "support" / "django_esi_probe.py"
    result = subprocess.run(
        [str(django_esi_python), str(probe), standalone_fake, redis_url, CALLBACK],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["players"] > 0
    assert seen["orders"] == 3 * 1000  # every page, as the fake's X-Pages says
    assert seen["cursor_records"] == 25 and seen["cursor_requests"] == 4  # 10 + 10 + 5, then empty
    assert seen["view_status"] == 200 and seen["character"] == 90000001
    assert isinstance(seen["balance"], float) and seen["refreshed"]
    assert seen["balance_after_refresh"] == seen["balance"]
