"""`esi spec diff`: what changed between two ESI specs, and whether it breaks callers."""

from __future__ import annotations

from typing import Annotated, cast

import typer

from esi_cli.console import EXIT_FAILED, console, fail

spec_app = typer.Typer(help="Inspect and compare ESI OpenAPI specs.", no_args_is_help=True)


@spec_app.command("diff")
def diff_command(
    old: Annotated[str, typer.Argument(help="The old spec: a path or URL.")],
    new: Annotated[str, typer.Argument(help="The new spec: a path or URL.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text, markdown or json.")] = "text",
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when anything breaking changed.")] = False,
    record_renames: Annotated[
        bool,
        typer.Option(
            "--record-renames",
            help="Add the renamed operations to generator/esi_generator/renames.toml: the next "
            "`esi generate` keeps their old modules importable (deprecated).",
        ),
    ] = False,
) -> None:
    """Report added/removed operations and changed parameters, schemas and scopes."""
    from esi_generator.diff import diff_specs
    from esi_generator.diff_render import Format, render
    from esi_generator.errors import SpecError
    from esi_generator.source import read_spec
    from esi_generator.validate import parse_spec

    if fmt not in ("text", "markdown", "json"):
        fail(f"--format must be text, markdown or json, not {fmt!r}")
    try:
        diff = diff_specs(parse_spec(read_spec(old)), parse_spec(read_spec(new)))
    except SpecError as exc:
        fail(str(exc), exc.exit_status)
    console.print(render(diff, cast(Format, fmt)), end="", highlight=False, markup=False, soft_wrap=True)
    if record_renames:
        from esi_generator.renames import RENAMES_PATH
        from esi_generator.renames import record_renames as record

        added = record(diff.renamed)
        typer.echo(f"recorded {len(added)} new rename(s) in {RENAMES_PATH}", err=True)
    if check and diff.breaking:
        raise typer.Exit(EXIT_FAILED)
