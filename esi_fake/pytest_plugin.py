"""pytest fixtures: `fake_esi` (a running fake ESI, reset for each test) and `esi_clock`.

Registered as a pytest11 entry point, so any project that installs esikit gets them; the
server (extra `[fake]`) is imported only when a test asks for it, so pytest starts without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from esi_client.clock import ManualClock

if TYPE_CHECKING:
    from esi_fake.server import FakeESIServer


@pytest.fixture(scope="session")
def esi_clock() -> ManualClock:
    """The clock the session's fake ESI keeps time by; pass it to ESIClient(clock=...) too."""
    return ManualClock()


@pytest.fixture(scope="session")
def fake_esi_server(esi_clock: ManualClock) -> Iterator[FakeESIServer]:
    try:
        from esi_fake._state import FakeState
        from esi_fake.server import FakeESIServer
    except ModuleNotFoundError as missing:
        pytest.fail(
            f"the fake_esi fixture needs the [fake] extra ({missing.name} is not installed): "
            "pip install 'esikit[fake]'",
            pytrace=False,
        )
    with FakeESIServer(state=FakeState(clock=esi_clock)) as server:
        yield server


@pytest.fixture
def fake_esi(fake_esi_server: FakeESIServer, esi_clock: ManualClock) -> FakeESIServer:
    """The session's fake ESI, with faults, counters and budgets reset for this test, and its
    clock back at the real time (tokens it issues agree with processes that use the real clock)."""
    esi_clock.reset()
    fake_esi_server.state.reset()
    fake_esi_server.sso.reset()
    return fake_esi_server
