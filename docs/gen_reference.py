"""MkDocs (gen-files): the operation reference, one page per tag, from the generated client's
facts (read from the spec at generation time). Built, never committed: it is CCP's data."""

from __future__ import annotations

from collections import defaultdict

import mkdocs_gen_files

from esi_client.describe import OperationDescription, describe
from esi_client.operations import all_operations


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _section(described: OperationDescription) -> str:
    op = described.operation
    lines = [f"## {op.id}", "", f"{_cell(op.summary)}", "", "```python", described.import_line, "```", ""]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {label} | `{_cell(value)}` |" for label, value in described.facts]
    lines += [f"| returns | `{_cell(described.returns)}` |", f"| CLI | `{_cell(described.example)}` |", ""]
    if described.arguments:
        lines += ["| parameter | type | | description |", "|---|---|---|---|"]
        for argument in described.arguments:
            need = (
                "required"
                if argument.required
                else (f"default `{argument.default}`" if argument.default else "")
            )
            text = " ".join(
                p for p in (argument.description, argument.allowed and f"({argument.allowed})") if p
            )
            lines.append(
                f"| `{argument.python_name}` | `{_cell(argument.annotation)}` | {need} | {_cell(text)} |"
            )
        lines.append("")
    if described.body_fields:
        fields = ", ".join(f"`{f.name}: {_cell(f.annotation)}`" for f in described.body_fields)
        lines += [f"Body `{described.body_type}`: {fields}", ""]
    return "\n".join(lines)


by_tag: dict[str, list[OperationDescription]] = defaultdict(list)
for operation in all_operations():
    by_tag[operation.tag].append(describe(operation))

with mkdocs_gen_files.open("reference/operations/index.md", "w") as index:
    index.write("# Operation reference\n\nEvery ESI operation of the pinned spec, by tag: the import line, ")
    index.write("parameters and their types, return type, scopes, paging, cache time, rate-limit group and ")
    index.write("the equivalent `esi call`. Generated from the spec's facts when the docs are built.\n\n")
    index.write("| tag | operations |\n|---|---|\n")
    for tag in sorted(by_tag):
        index.write(f"| [{tag}]({tag}.md) | {len(by_tag[tag])} |\n")

for tag, described in sorted(by_tag.items()):
    with mkdocs_gen_files.open(f"reference/operations/{tag}.md", "w") as page:
        page.write(f"# {tag}\n\n")
        page.write("\n".join(_section(d) for d in sorted(described, key=lambda d: d.operation.id)))
