"""Shared console output and the CLI's exit statuses."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

# Exit statuses, documented in the README (0 is success).
EXIT_FAILED = 1  # the command ran and the answer is "no" (e.g. `spec diff --check` found breaking changes)
EXIT_USAGE = 2  # bad input: a bad spec, an unknown operation, a wrong argument

# Into a pipe or a file, lines stay whole (a terminal's width means nothing there).
console = Console(soft_wrap=not sys.stdout.isatty())
err_console = Console(stderr=True, soft_wrap=True)


def fail(message: str, status: int = EXIT_USAGE) -> NoReturn:
    """Print one error line (the message is text, never markup: `array[integer]` stays) and exit."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(status)


def print_rows(headers: list[str], rows: list[list[str]], caption: str | None = None) -> None:
    """A table at a terminal; into a pipe or a file, whole tab-separated lines under one header
    line (nothing cut to the terminal's width, ready for cut, awk and spreadsheets)."""
    if not console.is_terminal:
        lines = ["\t".join(headers), *("\t".join(cell.replace("\t", " ") for cell in row) for row in rows)]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    from rich.table import Table

    table = Table(*(escape(h) for h in headers), caption=caption)
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    console.print(table)
