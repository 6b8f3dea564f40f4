"""The fleet measure, scaled down (benchmarks/fleet.py; `nox -s fleet` runs it longer, with the
per-process baseline): four Celery workers as separate hosts and beat, sharing PostgreSQL and
Redis, against the fake ESI with CCP's accounting and rate-limit windows scaled to 10 s; one
worker SIGKILLed mid-run and started again."""

from __future__ import annotations

import json

import pytest

from benchmarks.fleet import run_fleet


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_fleet_keeps_every_limit_and_loses_nothing() -> None:
    figures = run_fleet(30, shared=True, kill=True)
    shown = json.dumps(figures)  # the whole figures on a failure, not pytest's shortened repr
    assert figures["420s"] == 0 and figures["429s"] == 0, shown
    assert figures["tokens_lost"] == 0, shown
    assert figures["expiries_needed"] > 0 and figures["refreshes_per_expiry"] == 1.0, shown
    assert figures["duplicate_requests"] == 0, shown
    assert figures["market_windows"] >= 2, shown  # the bucket refilled during the run
    assert figures["pacing_efficiency"] >= 0.9, shown
