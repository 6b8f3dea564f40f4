"""A fake ESI on 127.0.0.1 for tests, demos and benchmarks: every operation of CCP's spec with
seeded, schema-valid data, ESI's paging, caching and limit headers, and fault injection.

    from esi_fake import FakeESIServer
    with FakeESIServer() as fake: ...

Also `esi fake-server`, and the pytest fixture `fake_esi` (plugin `esi_fake.pytest_plugin`).
"""

from typing import TYPE_CHECKING

from esi_client._lazy import lazy_attributes

if TYPE_CHECKING:
    from esi_fake._sso import Character, SSOState
    from esi_fake._state import FakeState, Faults, ForcedReply, Stats
    from esi_fake.server import FakeESIServer, build_app, load_spec

__all__ = [
    "Character",
    "FakeESIServer",
    "SSOState",
    "FakeState",
    "Faults",
    "ForcedReply",
    "Stats",
    "build_app",
    "load_spec",
]

# Loaded on first use: `python -m esi_fake.browser` and the pytest plugin work without the [fake]
# extra's server dependencies.
_HOME = {
    "Character": "esi_fake._sso",
    "SSOState": "esi_fake._sso",
    "FakeState": "esi_fake._state",
    "Faults": "esi_fake._state",
    "ForcedReply": "esi_fake._state",
    "Stats": "esi_fake._state",
    "FakeESIServer": "esi_fake.server",
    "build_app": "esi_fake.server",
    "load_spec": "esi_fake.server",
}

__getattr__, __dir__ = lazy_attributes(globals(), _HOME)
