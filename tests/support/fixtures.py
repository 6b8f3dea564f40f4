"""The types of the suite's fixtures, so mypy reads a test as it reads the product."""

from __future__ import annotations

from typing import Any, Protocol

from esi_client import ESIClient
from esi_client.clock import ManualClock
from esi_client.runtime.cache.memory import ResponseCache
from esi_fake import FakeESIServer

__all__ = ["ClientFactory", "FakeESIServer", "ManualClock", "cache_of"]


class ClientFactory(Protocol):
    """`make_client(**options)`: an ESIClient bound to the fake ESI and its manual clock."""

    def __call__(self, **options: Any) -> ESIClient: ...


def cache_of(client: ESIClient) -> ResponseCache:
    """The client's cache (made with one: `cache=False` would leave none)."""
    assert client.cache is not None
    return client.cache
