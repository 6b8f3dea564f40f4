"""A fake ESI on 127.0.0.1 for tests, demos and benchmarks: every operation of CCP's spec with
seeded, schema-valid data, ESI's paging, caching and limit headers, and fault injection.

    from esi_fake import FakeESIServer
    with FakeESIServer() as fake: ...

Also `esi fake-server`, and the pytest fixture `fake_esi` (plugin `esi_fake.pytest_plugin`).
"""

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
