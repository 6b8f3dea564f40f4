"""The code blocks of the README and the docs, and running them as a reader would.

A page's ```python blocks run in order in one interpreter (a later block uses what an earlier
one defined; top-level `await` works); its ```console blocks run line by line in bash, `$ `
prompts and `# comments` left out (a job a block starts in the background, `esi proxy &`, is
stopped when the page ends); ```javascript blocks run in node, ```go blocks with `go run`.
A block preceded by `<!-- not run: reason -->` is left out, with its reason (the set-up
commands that are the test command itself). Standard library only:
the newcomer check runs this with nothing but the installed wheel.

    python -m tests.support.docs_blocks PAGE.md [PAGE.md ...]     (the environment points at the fake)
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```", re.M | re.S)
NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<reason>.+?)\s*-->\s*$")
EXTRAS = re.compile(r"<!--\s*extras:\s*(?P<names>[a-z ]+?)\s*-->")


def page_extras(page: Path) -> set[str]:
    """The extras a page's examples need (`<!-- extras: redis -->` at its top)."""
    found = EXTRAS.search(page.read_text(encoding="utf-8"))
    return set(found["names"].split()) if found else set()


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    language: str
    code: str
    not_run: str | None  # the reason, for a block left out

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        language = match["info"].strip().split(" ")[0].lower()
        indent = len(match["indent"])
        code = "\n".join(line[indent:] for line in match["body"].splitlines())
        before = text[: match.start()].rstrip().splitlines()
        reason = NOT_RUN.search(before[-1]) if before else None
        line = text.count("\n", 0, match.start()) + 2
        found.append(Block(page, line, language, code, reason["reason"] if reason else None))
    return found


def _run_python(block: Block, namespace: dict[str, object]) -> None:
    code = compile(block.code, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)
    if asyncio.iscoroutine(result):
        asyncio.run(result)


def _run_console(block: Block, sessions: list[int]) -> None:
    lines = []
    for raw in block.code.splitlines():
        line = raw.removeprefix("$ ").strip()
        if line and not line.startswith("#"):
            lines.append(line)
    script = "set -euo pipefail\n" + "\n".join(lines) + "\n"
    # a session of its own: what it leaves running in the background is stopped with the page
    process = subprocess.Popen(
        ["bash", "-c", script], cwd=os.environ.get("DOCS_WORKDIR"), start_new_session=True
    )
    sessions.append(process.pid)
    if process.wait() != 0:
        raise RuntimeError(f"{block.where}: the console block exited {process.returncode}")


def _run_program(block: Block) -> None:
    """A JavaScript block in node, a Go block with `go run`, from a file in a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        name = "block.mjs" if block.language == "javascript" else "main.go"
        source = Path(folder) / name
        source.write_text(block.code, encoding="utf-8")
        command = ["node", str(source)] if block.language == "javascript" else ["go", "run", str(source)]
        result = subprocess.run(command, cwd=folder, check=False, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"{block.where}: the {block.language} block exited {result.returncode}")


RUNNABLE = ("python", "console", "bash", "sh", "javascript", "go")


def run_page(page: Path) -> int:
    namespace: dict[str, object] = {"__name__": "__docs__"}
    sessions: list[int] = []
    ran = 0
    try:
        for block in blocks(page):
            if block.not_run is not None or block.language not in RUNNABLE:
                continue
            print(f"--- {block.where} ({block.language})", flush=True)
            if block.language == "python":
                _run_python(block, namespace)
            elif block.language in ("javascript", "go"):
                _run_program(block)
            else:
                _run_console(block, sessions)
            ran += 1
    finally:
        for session in sessions:
            with contextlib.suppress(ProcessLookupError):  # nothing of it was left running
                os.killpg(session, signal.SIGTERM)
    return ran


def main(pages: list[str]) -> int:
    for page in pages:
        try:
            ran = run_page(Path(page))
        except Exception:
            traceback.print_exc()
            return 1
        print(f"=== {page}: {ran} blocks ran", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
