"""A pytest plugin for `nox -s mutants`: a mutant's tests run fastest first.

mutmut runs, for each mutant, every test that reached the mutated function, with `-x`: the first
failure ends the run. In file order a mutant caught by a 0.01-s test may first sit through
seconds of process-spawning tests; fastest first (mutmut's own timings, in mutmut-stats.json)
the kill comes as early as it can. Outside a mutant's run the order is left as it is.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


def _durations() -> dict[str, float]:
    stats = Path("mutmut-stats.json")  # mutmut runs the tests from inside mutants/
    if not stats.is_file():
        return {}
    recorded = json.loads(stats.read_text()).get("duration_by_test", {})
    return {str(test): float(seconds) for test, seconds in recorded.items()}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    durations = _durations()
    items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))
