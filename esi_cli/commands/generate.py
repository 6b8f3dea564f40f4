"""`esi generate`: build the typed client from the pinned (or a given) spec."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from esi_cli.console import console, fail
from esi_cli.context import one_line_errors


def generate_command(
    spec: Annotated[
        str | None,
        typer.Option("--spec", help="Spec path or URL (default: $ESI_SPEC, the cache, the pin's URL)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Where esi_client lives (default: the installed one).")
    ] = None,
    pin: Annotated[
        Path | None,
        typer.Option(
            help="The spec pin file (default: spec/pin.toml in a checkout; installed, "
            "~/.config/esikit/pin.toml once moved)."
        ),
    ] = None,
    update_pin: Annotated[
        bool, typer.Option("--update-pin", help="Accept a spec whose sha256 differs from the pin.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Regenerate even when nothing changed.")] = False,
    allow_warnings: Annotated[
        bool, typer.Option("--allow-warnings", help="Keep a client openapi-python-client warned about.")
    ] = False,
) -> None:
    """Generate esi_client from CCP's OpenAPI spec (a no-op when nothing changed)."""
    from esi_generator.diff_render import render
    from esi_generator.errors import SpecError
    from esi_generator.pin import DEFAULT_PIN_PATH

    try:
        with one_line_errors(), console.status("Generating the ESI client…"):
            import openapi_python_client  # noqa: F401  (the [generate] extra: say so before any work)

            from esi_generator.build import generate

            result = generate(
                spec,
                output_dir=output,
                pin_path=pin or DEFAULT_PIN_PATH,
                update_pin_to_spec=update_pin,
                force=force,
                allow_warnings=allow_warnings,
            )
    except SpecError as exc:
        fail(str(exc), exc.exit_status)
    if result.skipped:
        console.print(
            f"esi_client is up to date: {result.operations_generated} of {result.operations_in_spec} "
            f"operations, spec {result.compatibility_date} ({result.spec_sha256[:12]}), "
            f"{result.seconds:.2f} s"
        )
        return
    console.print(
        f"[green]Generated[/] {result.operations_generated} of {result.operations_in_spec} operations, "
        f"{result.models_generated} models, {len(result.warnings)} warnings in {result.seconds:.1f} s "
        f"from spec {result.compatibility_date} ({result.spec_sha256[:12]}) into {result.output_dir}",
        highlight=False,
    )
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    if result.diff is not None:
        console.print(render(result.diff, "text"), highlight=False, end="")
    elif result.previous_sha256:
        console.print(
            f"Replaced a client generated from spec {result.previous_sha256[:12]} "
            "(not in the spec cache, no diff).",
            highlight=False,
        )
