"""Retries: idempotent requests on 502/503/504, timeouts and connection errors, bounded."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from esi_client import ESIClient, RetryPolicy, ServerError, TransportError
from esi_client.api.status import get_status
from esi_client.api.universe import post_universe_names
from esi_client.clock import ManualClock
from esi_fake import ForcedReply
from tests.support.fixtures import ClientFactory, FakeESIServer
from tests.support.hostile_server import HostileServer, RawRequest, answer, client_for


def test_transient_5xx_is_retried(
    fake_esi: FakeESIServer, make_client: ClientFactory, esi_clock: ManualClock
) -> None:
    fake_esi.state.faults.forced = [ForcedReply(503, count=2)]
    client = make_client()
    assert get_status.sync(client=client).players > 0
    assert client.stats.retries == 2
    assert fake_esi.state.stats.count("GetStatus") == 3
    assert len(esi_clock.sleeps) == 2 and esi_clock.sleeps[1] >= 0.25


def test_retries_stop_at_the_bound(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    fake_esi.state.faults.forced = [ForcedReply(502, count=10)]
    with pytest.raises(ServerError) as caught:
        get_status.sync(client=make_client())
    assert caught.value.status == 502
    assert fake_esi.state.stats.count("GetStatus") == 4


def test_post_is_not_retried(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    fake_esi.state.faults.forced = [ForcedReply(503, count=1)]
    with pytest.raises(ServerError):
        post_universe_names.sync(client=make_client(), body=[34, 35])
    assert fake_esi.state.stats.count("PostUniverseNames") == 1


def test_connection_errors_are_retried_then_raised(generated_client: Path) -> None:
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


def test_timeouts_are_retried(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    fake_esi.state.faults.delay_s = 0.3
    client = make_client(timeout=0.05)
    with pytest.raises(TransportError, match="ReadTimeout"):
        get_status.sync(client=client)
    assert client.stats.retries == 3


def test_concurrency_is_bounded(server: HostileServer) -> None:
    """12 threads, max_concurrency=3: the server holds each request until three are inside at
    once (so the bound is reached, whatever the machine's speed) and records the most it saw."""
    from concurrent.futures import ThreadPoolExecutor

    from esi_client.api.killmails import get_killmails_killmail_id_killmail_hash as killmails
    from tests.test_runtime_limit_rules import KILLMAIL

    together = threading.Barrier(3, timeout=30)
    inside, most = [0], [0]
    lock = threading.Lock()

    def handle(_request: RawRequest, conn: socket.socket) -> None:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        together.wait()  # three in flight at once, or a BrokenBarrierError fails the test
        with lock:
            inside[0] -= 1
        answer(conn, 200, KILLMAIL)

    server.on("*", handle)
    client = client_for(server, max_concurrency=3)
    with ThreadPoolExecutor(12) as pool:
        found = list(pool.map(lambda n: killmails.sync(n, "h", client=client), range(24)))
    assert len(found) == 24 and most[0] == 3 and not together.broken


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(("retries", "said"), [(0, ""), (1, " after 1 retry"), (2, " after 2 retries")])
def test_a_connection_failure_says_what_and_how_often(
    generated_client: Path, retries: int, said: str
) -> None:
    client = ESIClient(
        app_name="t",
        contact="t",
        base_url=f"http://127.0.0.1:{_closed_port()}",
        clock=ManualClock(),
        retry=RetryPolicy(max_retries=retries),
    )
    with pytest.raises(TransportError) as caught:
        get_status.sync(client=client)
    message = str(caught.value)
    assert message.startswith(f"GetStatus: could not connect to ESI{said} (ConnectError: "), message
    assert message.endswith(")") and len(message) > len(
        f"GetStatus: could not connect to ESI{said} (ConnectError: )"
    )


@pytest.mark.parametrize("base_url", ["ftp://127.0.0.1:1", "127.0.0.1:8080", "file:///tmp/esi"])
def test_a_base_url_that_is_not_http_is_refused_at_once(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url must be an http:// or https:// URL, not "):
        ESIClient(app_name="t", contact="t", base_url=base_url)


@pytest.mark.parametrize("jitter", ["highest", "lowest"])
def test_retries_back_off_exponentially_with_jitter_up_to_the_cap(
    generated_client: Path, monkeypatch: pytest.MonkeyPatch, jitter: str
) -> None:
    """Attempt n waits base/2 plus a random share of min(cap, base * 2**(n-1)) (full jitter)."""
    import random

    monkeypatch.setattr(
        random, "uniform", (lambda low, high: high) if jitter == "highest" else (lambda low, high: low)
    )
    clock = ManualClock()
    policy = RetryPolicy(max_retries=5, backoff_base=0.5, backoff_cap=3.0)
    client = ESIClient(
        app_name="t", contact="t", base_url=f"http://127.0.0.1:{_closed_port()}", clock=clock, retry=policy
    )
    with pytest.raises(TransportError):
        get_status.sync(client=client)
    highest = [min(3.0, 0.5 * 2 ** (n - 1)) + 0.25 for n in range(1, 6)]
    assert clock.sleeps == (pytest.approx(highest) if jitter == "highest" else [0.25] * 5)
