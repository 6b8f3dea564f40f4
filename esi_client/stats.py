"""Counters a user can read to see what the runtime did: `client.stats`."""

from __future__ import annotations

import threading
from typing import Literal, get_args

from attrs import define, field

# A misspelt counter would silently be a new attribute: mypy checks every name against these.
Counter = Literal[
    "requests",
    "cache_hits",
    "coalesced",
    "not_modified",
    "retries",
    "waits",
    "wait_seconds",
    "errors",
    "fast_decodes",
    "slow_decodes",
    "unknown_enum_values",
    "unknown_keys",
    "shared_limit_fallbacks",
]
COUNTERS: tuple[str, ...] = get_args(Counter)


@define
class ClientStats:
    requests: int = 0  # HTTP requests sent (retries included)
    cache_hits: int = 0  # answered from the cache without a request
    coalesced: int = 0  # answered by an identical request another caller had in flight
    not_modified: int = 0  # 304s: the cached result was reused
    retries: int = 0
    waits: int = 0  # pauses for the error or rate limit
    wait_seconds: float = 0.0
    errors: int = 0  # error responses (4xx/5xx)
    fast_decodes: int = 0  # big bodies decoded by msgspec straight into the models
    slow_decodes: int = 0  # big bodies that were not exactly the spec's (new keys): from_dict
    unknown_enum_values: int = 0  # enum values the spec does not list: kept as strings
    unknown_keys: int = 0  # object keys the spec does not name: kept in additional_properties
    shared_limit_fallbacks: int = 0  # limit checks made in this process: Redis did not answer
    _lock: threading.Lock = field(factory=threading.Lock, repr=False, eq=False, alias="_lock")

    def add(self, name: Counter, amount: float = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return {name: getattr(self, name) for name in COUNTERS}
