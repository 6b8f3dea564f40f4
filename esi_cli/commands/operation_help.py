"""One operation's help: `esi call OP --help` and `esi ops show OP`."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from esi_cli.console import console
from esi_client.describe import OperationDescription


def print_operation(described: OperationDescription) -> None:
    op = described.operation
    console.print(f"[bold]{op.id}[/] — {escape(op.summary)}", highlight=False)
    console.print(escape(f"Usage: {described.example}"), highlight=False)
    facts = Table.grid(padding=(0, 2))
    for label, value in described.facts:
        facts.add_row(label, escape(value))
    facts.add_row("Python", escape(f"{described.import_line}  # .sync(...) / .asyncio(...)"))
    facts.add_row("returns", escape(described.returns))
    console.print(facts)
    if described.arguments:
        table = Table("option", "type", "", "description", title="Parameters", title_justify="left")
        for argument in described.arguments:
            need = (
                "required" if argument.required else f"default {argument.default}" if argument.default else ""
            )
            text = " ".join(
                part for part in (argument.description, argument.allowed and f"({argument.allowed})") if part
            )
            table.add_row(escape(argument.flag), escape(argument.annotation), need, escape(text))
        console.print(table)
    if described.body_fields:
        fields = ", ".join(
            f"{f.name}: {f.annotation}" + ("" if f.required else " (optional)") for f in described.body_fields
        )
        console.print(escape(f"--body JSON ({described.body_type}): {{{fields}}}"), highlight=False)
    console.print("Options: --character ID (whose token), --all-pages, --json", highlight=False, style="dim")
