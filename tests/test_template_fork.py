"""Our templates are a fork of openapi-python-client's, owned: every template that overrides one
of upstream's is recorded (generator/esi_generator/templates/UPSTREAM.toml) with the pinned
upstream file's hash and why ours differs, and the build fails when upstream's file changes
under ours, so an upstream fix is read and carried over, never silently lost."""

from __future__ import annotations

import hashlib
import tomllib
from importlib.metadata import version
from pathlib import Path

import openapi_python_client
import pytest

import esi_generator

OURS = Path(esi_generator.__file__).parent / "templates"
UPSTREAM = Path(openapi_python_client.__file__).parent / "templates"
RECORD = tomllib.loads((OURS / "UPSTREAM.toml").read_text())
OURS_ALONE = {"operation_index.py.jinja", "property_templates/esi_checked.jinja"}


def _templates(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*.jinja")}


def test_the_record_names_the_pinned_upstream() -> None:
    assert RECORD["upstream"] == f"openapi-python-client=={version('openapi-python-client')}"


def test_every_template_is_recorded_or_ours_alone() -> None:
    overriding = _templates(OURS) & _templates(UPSTREAM)
    assert set(RECORD["templates"]) == overriding
    assert _templates(OURS) - overriding == OURS_ALONE
    assert all(entry["why"].strip() for entry in RECORD["templates"].values())


@pytest.mark.parametrize("name", sorted(RECORD["templates"]))
def test_upstreams_template_is_the_one_ours_was_taken_from(name: str) -> None:
    digest = hashlib.sha256((UPSTREAM / name).read_bytes()).hexdigest()
    assert digest == RECORD["templates"][name]["upstream_sha256"], (
        f"openapi-python-client's {name} changed: carry the change into ours, then record its hash"
    )
