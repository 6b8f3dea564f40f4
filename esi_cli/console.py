"""Shared console output and the CLI's exit statuses."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

# Exit statuses, documented in the README.
EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and the answer is "no" (e.g. `spec diff --check` found breaking changes)
EXIT_USAGE = 2  # bad input: a bad spec, an unknown operation, a wrong argument

console = Console()
err_console = Console(stderr=True)


def fail(message: str, status: int = EXIT_USAGE) -> NoReturn:
    """Print one error line (the message is text, never markup: `array[integer]` stays) and exit."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(status)
