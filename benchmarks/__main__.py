"""Run the benchmarks: `python -m benchmarks [group ...]` (default: all)."""

from __future__ import annotations

import sys

from benchmarks import auth, generation, limits, runtime
from benchmarks._harness import save

GROUPS = {"generation": generation.run, "runtime": runtime.run, "auth": auth.run, "limits": limits.run}


def main(argv: list[str]) -> None:
    chosen = argv or list(GROUPS)
    unknown = [name for name in chosen if name not in GROUPS]
    if unknown:
        raise SystemExit(f"unknown benchmark group(s) {unknown}; choose from {sorted(GROUPS)}")
    results: dict[str, float] = {}
    for name in chosen:
        print(f"== {name}")
        results.update(GROUPS[name]())
    save(results)


if __name__ == "__main__":
    main(sys.argv[1:])
