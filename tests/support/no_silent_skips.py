"""A pytest plugin: under CI (`CI` set, as `.ci/run` sets it) a run that skipped any test fails.

The README promises CI runs the PostgreSQL, Redis, Celery, Chromium and third-party-client tests;
a skip there would be a promise broken in silence. Locally a skip stays a skip.
"""

from __future__ import annotations

import os

import pytest


def under_ci() -> bool:
    return bool(os.environ.get("CI"))


def skip_or_fail(reason: str) -> None:
    """Skip locally; fail under CI, where nothing may be missing."""
    if under_ci():
        pytest.fail(f"{reason} (CI must not skip it)")
    pytest.skip(reason)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if under_ci() and skipped and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter is not None:
            reporter.write_line(f"{skipped} test(s) skipped under CI: CI must not skip any", red=True)
