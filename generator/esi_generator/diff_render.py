"""Render a SpecDiff as plain text, Markdown or JSON."""

from __future__ import annotations

import json
from typing import Literal

from esi_generator.diff import SpecDiff

Format = Literal["text", "markdown", "json"]


def summary_line(diff: SpecDiff) -> str:
    return (
        f"{diff.old_version} -> {diff.new_version}: {len(diff.added)} operations added, "
        f"{len(diff.removed)} removed, {len(diff.renamed)} renamed, {len(diff.changes)} changes, "
        f"{len(diff.breaking)} breaking"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(diff: SpecDiff, fmt: Format = "text") -> str:
    if fmt == "json":
        return json.dumps(diff.as_dict(), indent=2, sort_keys=True)
    if fmt == "markdown":
        lines = [f"# ESI spec diff: {diff.old_version} → {diff.new_version}", "", summary_line(diff), ""]
        if diff.changes:
            lines += ["| operation | kind | change | breaking |", "|---|---|---|---|"]
            lines += [
                f"| `{c.operation_id}` | {c.kind} | {_cell(c.detail)} | {'**yes**' if c.breaking else 'no'} |"
                for c in sorted(diff.changes)
            ]
        return "\n".join(lines) + "\n"
    lines = [summary_line(diff)]
    lines += [
        f"  {'BREAKING' if c.breaking else 'ok      '}  {c.operation_id}  [{c.kind}] {c.detail}"
        for c in sorted(diff.changes)
    ]
    return "\n".join(lines) + "\n"
