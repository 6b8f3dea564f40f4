"""The list of equivalent mutants `nox -s mutants` reads: a TOML table that parses (a name listed
twice does not), each name a mutant of a file that is mutated, each with its reason."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_listed_mutant_is_one_of_the_cores_with_a_reason() -> None:
    listed = tomllib.loads((ROOT / "tests" / "mutants_equivalent.toml").read_text())["equivalent"]
    mutated = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]
    assert listed
    for name, reason in listed.items():
        found = re.fullmatch(r"(esi_\w+(?:\.\w+)*)\.x(?:ǁ\w+ǁ|_)(\w+)__mutmut_\d+", name)
        assert found is not None, name
        module = found.group(1).replace(".", "/") + ".py"
        assert any(fnmatch.fnmatch(module, pattern) for pattern in mutated), name
        assert isinstance(reason, str) and len(reason.strip()) >= 8, name  # "as above" may follow one
