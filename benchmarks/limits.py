"""The rate limits' cost as a bucket fills: a reservation and its settlement with a full
market-order bucket (12,000 tokens a window, 6,000 answers held as spent) against the same with
an empty one, in this process's memory and in Redis. A large group must cost what a small one
costs: every call settles, and in Redis every process of a fleet waits for that script.

- limits_settle_full_vs_empty_ratio: local buckets (RateBuckets);
- shared_limits_settle_full_vs_empty_ratio: RedisLimits (the Lua scripts, on a local redis-server).
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import httpx2

from benchmarks._harness import report
from esi_client import RedisLimits
from esi_client.operations import get_operation
from esi_client.runtime.limits.local import RateBuckets, RateGate
from esi_client.stats import ClientStats
from testbed.servers import redis_server

MARKET_ORDERS = "get_markets_region_id_orders"
HELD = 6_000  # answers a full market-order bucket holds as spent (1 token each: 304s)
MEASURED = 300


def _cycles(gate: RateGate, principal: str, start: int, count: int) -> float:
    """Seconds for `count` reservations and settlements, each answer one token lower."""
    operation = get_operation(MARKET_ORDERS)
    started = time.perf_counter()
    for n in range(count):
        now = time.time()
        wait, lease = gate.reserve(operation, principal, now)
        assert wait == 0, f"held {wait} s at {n}"
        headers = httpx2.Headers({"X-Ratelimit-Remaining": str(start - n), "X-Ratelimit-Used": "1"})
        gate.settle(operation, principal, now, headers, lease)
    return time.perf_counter() - started


def full_vs_empty(gate: RateGate) -> tuple[float, float]:
    """(µs a cycle with HELD spends held, µs a cycle with none), on two principals' buckets."""
    _cycles(gate, "full", 12_000, HELD)
    full = _cycles(gate, "full", 12_000 - HELD, MEASURED)
    empty = _cycles(gate, "empty", 12_000, MEASURED)
    return 1e6 * full / MEASURED, 1e6 * empty / MEASURED


def _measure(name: str, gate_factory: Callable[[], RateGate], where: str) -> dict[str, float]:
    full, empty = full_vs_empty(gate_factory())
    report(f"{name}_full_us", full, "µs", f"reserve + settle, {where}, {HELD} spends held",
           ("the same with none held", empty))  # fmt: skip
    return {f"{name}_full_us": full, f"{name}_full_vs_empty_ratio": full / empty}


def run() -> dict[str, float]:
    results = _measure("limits_settle", RateBuckets, "this process's buckets")
    with (
        tempfile.TemporaryDirectory(prefix="bench-redis-") as folder,
        contextmanager(redis_server)(Path(folder)) as url,
    ):
        limits = RedisLimits(url, app=f"bench-{uuid.uuid4().hex[:8]}")
        _, shared = limits.bind(10, 16, ClientStats())
        results |= _measure("shared_limits_settle", lambda: shared, "RedisLimits")
    return results
