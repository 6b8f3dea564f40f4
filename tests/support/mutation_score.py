"""`nox -s mutants`: mutmut over the hand-written core, then the score of each area.

The files mutated and the tests run are in pyproject's `[tool.mutmut]`. A mutant the tests
do not notice is either a missing test (write it) or equivalent to the original (no test
could tell them apart): list it, with the reason, in tests/mutants_equivalent.toml. The score
of an area is killed / (mutants - equivalent ones); `mutation_score_auth` and
`mutation_score_runtime` go to .bench/results.json, and the run fails below 0.85 or when a
surviving mutant is neither killed nor listed.

    nox -s mutants                          # everything (results are kept in mutants/)
    nox -s mutants -- "esi_auth.owners*"    # only these mutants, then the scores of all
    nox -s mutants -- --report              # the scores of what the last run left, no run
    nox -s mutants -- --again NAME...       # run these again (mutmut keeps a result otherwise)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tomllib
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENT = ROOT / "tests" / "mutants_equivalent.toml"
AREAS = {"auth": "esi_auth.", "runtime": "esi_client."}
THRESHOLD = 0.85
# mutmut's exit codes (mutmut.stats.status_by_exit_code): a failing test run, an internal
# pytest error, a mutant too slow to finish, or one mypy --strict rejects (37: it cannot land)
# all count as noticed.
KILLED = {1, 3, 36, 37, 24, -24, 152, 255}


def outcomes() -> dict[str, int | None]:
    """Every mutant's exit code (None: not run yet), read from mutmut's files in mutants/."""
    found: dict[str, int | None] = {}
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        found.update(json.loads(meta.read_text())["exit_code_by_key"])
    return found


def equivalent() -> dict[str, str]:
    listed = tomllib.loads(EQUIVALENT.read_text()).get("equivalent", {}) if EQUIVALENT.is_file() else {}
    return {str(name): str(reason) for name, reason in listed.items()}


def area_of(mutant: str) -> str | None:
    return next((area for area, prefix in AREAS.items() if mutant.startswith(prefix)), None)


def report(results: dict[str, int | None], listed: dict[str, str]) -> tuple[dict[str, float], list[str]]:
    """The score of each area, and the problems: survivors not listed, listed mutants killed."""
    scores: dict[str, float] = {}
    problems: list[str] = []
    for area in AREAS:
        mine = {name: code for name, code in results.items() if area_of(name) == area}
        ran = {name: code for name, code in mine.items() if code is not None}
        survivors = sorted(name for name, code in ran.items() if code not in KILLED)
        excused = [name for name in survivors if name in listed]
        killed = len(ran) - len(survivors)
        counted = len(ran) - len(excused)
        scores[area] = killed / counted if counted else 0.0
        kinds = Counter(describe(code) for code in mine.values())
        print(f"{area}: {len(ran)} of {len(mine)} mutants run, {len(excused)} listed as equivalent, "
              f"score {scores[area]:.3f} (of those run)")  # fmt: skip
        print(f"  {dict(kinds)}")
        problems += [f"survived, not listed: {name}" for name in survivors if name not in listed]
        if len(ran) < len(mine):
            problems.append(f"{area}: {len(mine) - len(ran)} mutants not run yet (the score is partial)")
    gone = [name for name in listed if name not in results or results[name] in KILLED]
    problems += [f"listed as equivalent, but killed or gone: {name}" for name in gone]
    return scores, problems


def describe(code: int | None) -> str:
    return "killed" if code in KILLED else "not run" if code is None else f"exit {code}"


def forget(names: list[str]) -> None:
    """Mark the named mutants not run: mutmut runs a mutant that has a result only once."""
    wanted = set(names)
    for meta in (ROOT / "mutants").rglob("*.py.meta"):
        data = json.loads(meta.read_text())
        results = data["exit_code_by_key"]
        if wanted & results.keys():
            results.update(dict.fromkeys(wanted & results.keys()))
            meta.write_text(json.dumps(data))


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    # Stopped by a signal, the PostgreSQL server below is still removed (its `finally`).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from benchmarks._harness import save
    from testbed.servers import postgres_server

    if argv[:1] == ["--again"]:
        argv = argv[1:]
        forget([name for name in argv if not name.startswith("-")])
    if argv != ["--report"]:  # `--report`: the scores of what an earlier run left, no run
        # One PostgreSQL server for every mutant's test run, instead of a new cluster for each.
        with contextmanager(postgres_server)() as postgres:
            env = {**os.environ, "ESIKIT_TEST_POSTGRES_URL": postgres}
            command = [sys.executable, "-m", "mutmut", "run", *argv]
            finished = subprocess.run(command, cwd=ROOT, check=False, env=env)
        if finished.returncode != 0:
            print(f"error: mutmut run ended with exit status {finished.returncode}")
            return finished.returncode
    scores, problems = report(outcomes(), equivalent())
    save({f"mutation_score_{area}": score for area, score in scores.items()})
    for problem in problems:
        print(problem)
    if problems:
        print("see one with: mutmut show NAME (in the mutants session's venv)")
    low = [area for area, score in scores.items() if score < THRESHOLD]
    if low:
        print(f"below {THRESHOLD}: {', '.join(low)}")
    return 1 if low or problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
