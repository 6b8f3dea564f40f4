"""MkDocs hook: figures in the docs come from the benchmarks' own output.

`<!-- bench: key -->` is replaced by that figure from .bench/results.json (written by
`nox -s bench` and `nox -s fleet`), or says it was not measured on this machine.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent.parent / ".bench" / "results.json"
MARKER = re.compile(r"<!--\s*bench:\s*([a-z0-9_]+)\s*-->")


def _figures() -> dict[str, Any]:
    try:
        data = json.loads(RESULTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def on_page_markdown(markdown: str, **_: Any) -> str:
    figures = _figures()

    def figure(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in figures:
            return f"**{_shown(figures[key])}**"
        session = "proxy-bench" if key.startswith("proxy_") else "bench"
        return f"*({key}: not measured on this machine; run `nox -s {session}`)*"

    return MARKER.sub(figure, markdown)
