"""Retries: idempotent requests on 502/503/504, timeouts and connection errors, bounded."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from esi_client import ESIClient, ServerError, TransportError
from esi_client.api.status import get_status
from esi_client.api.universe import post_universe_names
from esi_client.clock import ManualClock
from esi_fake import ForcedReply


def test_transient_5xx_is_retried(fake_esi: Any, make_client: Any, esi_clock: Any) -> None:
    fake_esi.state.faults.forced = [ForcedReply(503, count=2)]
    client = make_client()
    assert get_status.sync(client=client).players > 0
    assert client.stats.retries == 2
    assert fake_esi.state.stats.count("GetStatus") == 3
    assert len(esi_clock.sleeps) == 2 and esi_clock.sleeps[1] >= 0.25


def test_retries_stop_at_the_bound(fake_esi: Any, make_client: Any) -> None:
    fake_esi.state.faults.forced = [ForcedReply(502, count=10)]
    with pytest.raises(ServerError) as caught:
        get_status.sync(client=make_client())
    assert caught.value.status == 502
    assert fake_esi.state.stats.count("GetStatus") == 4


def test_post_is_not_retried(fake_esi: Any, make_client: Any) -> None:
    fake_esi.state.faults.forced = [ForcedReply(503, count=1)]
    with pytest.raises(ServerError):
        post_universe_names.sync(client=make_client(), body=[34, 35])
    assert fake_esi.state.stats.count("PostUniverseNames") == 1


def test_connection_errors_are_retried_then_raised(generated_client: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    clock = ManualClock()
    client = ESIClient(app_name="t", contact="t", base_url=f"http://127.0.0.1:{closed_port}", clock=clock)
    with pytest.raises(
        TransportError, match="GetStatus: could not connect to ESI after 3 retries \\(ConnectError"
    ):
        get_status.sync(client=client)
    assert client.stats.requests == 4 and len(clock.sleeps) == 3


def test_timeouts_are_retried(fake_esi: Any, make_client: Any) -> None:
    fake_esi.state.faults.delay_s = 0.3
    client = make_client(timeout=0.05)
    with pytest.raises(TransportError, match="ReadTimeout"):
        get_status.sync(client=client)
    assert client.stats.retries == 3


def test_concurrency_is_bounded(fake_esi: Any, make_client: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from esi_client.api.wars import get_wars_war_id

    fake_esi.state.faults.delay_s = 0.02
    client = make_client(max_concurrency=3)
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda war_id: get_wars_war_id.sync(war_id, client=client), range(24)))
    assert fake_esi.state.stats.max_in_flight == 3
