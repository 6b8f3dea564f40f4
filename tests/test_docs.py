"""Every code block of the README and the docs runs, as a reader would run it, against the fake
ESI + SSO (tests/support/docs_blocks.py), with the services a page says it needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.docs_blocks import RUNNABLE, blocks, page_extras
from tests.support.docs_env import docs_environment
from tests.support.fixtures import FakeESIServer

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def reader_environment(
    fake_url: str, work: Path, spec_path: Path, redis_url: str | None, postgres_url: str | None
) -> dict[str, str]:
    """A clean environment (no ESI_* of this run) pointed at the fake, as docs_env makes it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ESI_")}
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **base,
        "PATH": f"{bin_dir}{os.pathsep}{base.get('PATH', '')}",
        "ESI_SPEC": str(spec_path),
        "ESI_OLD_SPEC": str(spec_path.with_name("esi-openapi-2025-12-16.json")),
        **docs_environment(fake_url, work, redis_url=redis_url, postgres_url=postgres_url),
    }
    return env


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_block_of_the_page_runs(
    page: Path, fake_esi: FakeESIServer, tmp_path: Path, spec_path: Path, request: pytest.FixtureRequest
) -> None:
    extras = page_extras(page)
    redis = request.getfixturevalue("redis_url") if extras & {"redis", "celery"} else None
    postgres = request.getfixturevalue("postgres_url") if "postgres" in extras else None
    env = reader_environment(fake_esi.url, tmp_path, spec_path, redis, postgres)
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "support" / "docs_blocks.py"), str(page)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-6000:]
    runnable = [b for b in blocks(page) if b.not_run is None and b.language in RUNNABLE]
    assert f"{len(runnable)} blocks ran" in result.stdout


def test_blocks_left_out_are_few_and_say_why() -> None:
    left_out = [b for page in PAGES for b in blocks(page) if b.not_run is not None]
    assert all(len(b.not_run or "") > 20 for b in left_out)
    assert len(left_out) <= 6, [b.where for b in left_out]
    languages = {b.language for page in PAGES for b in blocks(page)}
    assert languages <= {"python", "console", "javascript", "go", ""}, languages
