"""Timing helpers and the results file shared by every benchmark."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / ".bench" / "results.json"


def spec_location() -> str:
    """CCP's spec: $ESI_SPEC, else ../shared/spec beside the repository (never committed)."""
    spec = os.environ.get("ESI_SPEC") or str(ROOT.parent / "shared" / "spec" / "esi-openapi.json")
    if not Path(spec).is_file():
        raise SystemExit(f"CCP's spec is not at {spec} (set ESI_SPEC)")
    return spec


def run_seconds(command: list[str], *, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env or dict(os.environ))
    return time.perf_counter() - started


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def python_startup_ms(code: str, repeat: int = 15) -> float:
    """Median wall time of a fresh interpreter running `code`, in milliseconds.

    Bytecode is cached as on an installed system (pip compiles at install; Python writes
    `__pycache__` on first import): machines here set PYTHONDONTWRITEBYTECODE=1, under which
    every start would recompile every module, so it is unset for these runs.
    """
    return command_startup_ms([sys.executable, "-c", code], repeat)


def command_startup_ms(command: list[str], repeat: int) -> float:
    """Median wall time of a fresh process, bytecode cached (see python_startup_ms)."""
    return interleaved_startup_samples_ms([command], repeat)[0][0]


def interleaved_startup_samples_ms(commands: list[list[str]], repeat: int) -> list[tuple[float, float]]:
    """(median, fastest) wall time of each command, run in turn so all see the same machine noise."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    for command in commands:
        run_seconds(command, env=env)  # warm the OS file cache and write the .pyc files
    samples: list[list[float]] = [[] for _ in commands]
    for _ in range(repeat):
        for command, times in zip(commands, samples, strict=True):
            times.append(run_seconds(command, env=env))
    return [(1000 * statistics.median(times), 1000 * min(times)) for times in samples]


def report(
    name: str, value: float, unit: str, command: str, baseline: tuple[str, float] | None = None
) -> None:
    ratio = f"  ({value / baseline[1]:.3g}x {baseline[0]})" if baseline and baseline[1] else ""
    print(f"{name:<28} {value:>10.2f} {unit:<3}{ratio}\n{'':<28} command: {command}")


def save(results: dict[str, float]) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    existing.update({key: round(value, 4) for key, value in results.items()})
    RESULTS.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
    print(f"wrote {len(results)} figures to {RESULTS.relative_to(ROOT)}")
