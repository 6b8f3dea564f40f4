"""A newcomer's first hour, automated (`nox -s newcomer`, `nox -s extras`).

    python -m tests.support.newcomer VENV_PYTHON              the wheel alone: README, guides, mypy, --help
    python -m tests.support.newcomer VENV_PYTHON --page PAGE  one page, in a venv holding one extra

VENV_PYTHON is a fresh venv's interpreter holding the installed wheel (and nothing of this
checkout). The fake ESI + SSO runs from this session's own environment; the venv only ever
talks to it over HTTP, as a user's program would.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from testbed.servers import fake_server_process, postgres_server, redis_server
from tests.support.docs_blocks import page_extras
from tests.support.docs_env import docs_environment

ROOT = Path(__file__).resolve().parents[2]
SPEC = Path(os.environ.get("ESI_SPEC") or ROOT.parent / "shared" / "spec" / "esi-openapi.json")
# The pages a newcomer follows with no extra installed.
BARE_PAGES = [
    "README.md",
    "docs/index.md",
    "docs/install.md",
    "docs/guides/client.md",
    "docs/guides/runtime.md",
    "docs/guides/configuration.md",
    "docs/guides/cli.md",
    "docs/guides/comparison.md",
]


def _page_extras(page: str) -> set[str]:
    return page_extras(ROOT / page)


@contextmanager
def _services(extras: set[str], work: Path) -> Iterator[dict[str, str]]:
    with ExitStack() as stack:
        found: dict[str, str] = {}
        if extras & {"redis", "celery"}:
            (work / "redis").mkdir()
            found["redis_url"] = stack.enter_context(contextmanager(redis_server)(work / "redis"))
        if "postgres" in extras:
            found["postgres_url"] = stack.enter_context(contextmanager(postgres_server)())
        yield found


def _reader_env(python: Path, fake: str, work: Path, page: str, services: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ESI_", "VIRTUAL_ENV", "PYTHON"))}
    env = {
        **base,
        "PATH": f"{python.parent}{os.pathsep}{base.get('PATH', '')}",
        **docs_environment(fake, work, python=str(python), **services),
    }
    if "generate" in _page_extras(page):  # regenerating reads a spec the reader has
        env["ESI_SPEC"] = str(SPEC)
        env["ESI_OLD_SPEC"] = str(SPEC.with_name("esi-openapi-2025-12-16.json"))
    return env


def run_page(python: Path, page: str) -> None:
    """The page's blocks, run by the venv's interpreter with the venv's `esi` first on PATH."""
    work = Path(tempfile.mkdtemp(prefix="esikit-newcomer-"))
    runner = work / "docs_blocks.py"  # a copy: nothing of the checkout is importable there
    shutil.copy(ROOT / "tests" / "support" / "docs_blocks.py", runner)
    try:
        with _services(_page_extras(page), work) as services, fake_server_process(SPEC) as fake:
            env = _reader_env(python, fake, work, page, services)
            subprocess.run([str(python), str(runner), str(ROOT / page)], env=env, cwd=work, check=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def type_check_a_users_script(python: Path) -> None:
    """mypy --strict on a user's script against the installed wheel alone."""
    work = Path(tempfile.mkdtemp(prefix="esikit-mypy-"))
    try:
        shutil.copy(ROOT / "tests" / "support" / "newcomer_script.py", work / "my_script.py")
        subprocess.run(
            [str(python), "-m", "mypy", "--strict", "--no-incremental", "my_script.py"], cwd=work, check=True
        )
        with fake_server_process(SPEC) as fake:
            env = _reader_env(python, fake, work, "README.md", {})
            subprocess.run(["esi", "login", "-s", "esi-wallet.read_character_wallet.v1"], env=env, check=True)
            subprocess.run([str(python), "my_script.py"], cwd=work, env=env, check=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


USER_TEST = """
import httpx2
from esi_client import ESIClient
from esi_client.api.status import get_status


def test_with_a_mock_transport():
    def handler(request):
        status = {"players": 3, "server_version": "1", "start_time": "2026-12-07T11:00:00Z"}
        return httpx2.Response(200, json=status)

    with ESIClient(app_name="t", contact="t@example.com", transport=httpx2.MockTransport(handler)) as client:
        assert get_status.sync(client=client).players == 3
"""


def pytest_runs_a_users_tests(python: Path) -> None:
    """esikit's pytest plugin loads without the [fake] extra: a user's own tests run."""
    work = Path(tempfile.mkdtemp(prefix="esikit-pytest-"))
    try:
        (work / "test_mine.py").write_text(USER_TEST)
        env = {**os.environ, "ESI_CONFIG": os.devnull}
        subprocess.run(
            [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=work, env=env, check=True
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


COMMANDS = """
import typer.main
from esi_cli.app import app
def walk(command, path):
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from walk(sub, [*path, name])
for path in walk(typer.main.get_command(app), []):
    print(" ".join(path))
"""


def show_every_help(python: Path) -> None:
    listed = subprocess.run([str(python), "-c", COMMANDS], capture_output=True, text=True, check=True)
    esi = str(python.parent / "esi")
    for line in listed.stdout.splitlines():
        shown = subprocess.run(
            [esi, *line.split(), "--help"],
            capture_output=True,
            text=True,
            env={**os.environ, "ESI_CONFIG": os.devnull, "COLUMNS": "100"},
            check=False,
        )
        if shown.returncode != 0 or "Usage" not in shown.stdout:
            raise SystemExit(f"`esi {line} --help` failed: {shown.stdout}{shown.stderr}")
        print(f"$ esi {line} --help".replace("  ", " "))
        print(shown.stdout)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("python", type=Path)
    parser.add_argument("--page", action="append")
    options = parser.parse_args()
    started = time.monotonic()
    for page in options.page or BARE_PAGES:
        print(f"=== {page}", flush=True)
        run_page(options.python, page)
    if not options.page:
        type_check_a_users_script(options.python)
        pytest_runs_a_users_tests(options.python)
        show_every_help(options.python)
    print(f"newcomer check passed in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
