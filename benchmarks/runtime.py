"""Issue 3's figures, against `esi fake-server` in its own process:

(a) all pages of a 300-page x 1000-order market endpoint into typed models, as a ratio to plain
    httpx2 + orjson producing dicts at the same concurrency;
(b) a fresh-cache call, in microseconds;
(c) cold start to first request (import + client + one call) in a new interpreter, against
    `python -c "import httpx"`.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import orjson

from benchmarks._harness import python_startup_ms, report
from benchmarks.generation import _spec

PAGES = 300
CONCURRENCY = 16
REGION = 10000002


@contextmanager
def fake_server() -> Iterator[str]:
    from tests.services import free_port, wait_for_port

    port = free_port()
    esi = str(Path(sys.executable).with_name("esi"))
    command = [esi, "fake-server", "--port", str(port), "--spec", _spec(), "--market-pages", str(PAGES)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 60)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def raw_all_pages(url: str) -> int:
    """The baseline: plain httpx2 + orjson, dicts, the same concurrency."""
    limits = httpx2.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    headers = {"X-Compatibility-Date": "2026-08-04", "User-Agent": "bench"}
    async with httpx2.AsyncClient(base_url=url, limits=limits, headers=headers) as http:
        path = f"/markets/{REGION}/orders"
        first = await http.get(path, params={"order_type": "all", "page": 1})
        pages = int(first.headers["x-pages"])
        bound = asyncio.Semaphore(CONCURRENCY)

        async def page(number: int) -> list[dict[str, object]]:
            async with bound:
                response = await http.get(path, params={"order_type": "all", "page": number})
            return orjson.loads(response.content)  # type: ignore[no-any-return]

        rest = await asyncio.gather(*(page(n) for n in range(2, pages + 1)))
        items = orjson.loads(first.content) + [item for chunk in rest for item in chunk]
    return len(items)


async def typed_all_pages(url: str) -> int:
    from esi_client import ESIClient
    from esi_client.api.market import get_markets_region_id_orders
    from esi_client.paging import all_pages_async

    async with ESIClient(
        app_name="bench", contact="bench", base_url=url, max_concurrency=CONCURRENCY
    ) as client:
        orders = await all_pages_async(get_markets_region_id_orders, REGION, client=client)
    return len(orders)


def _timed(coroutine_factory: object, url: str) -> float:
    started = time.perf_counter()
    count = asyncio.run(coroutine_factory(url))  # type: ignore[operator]
    assert count == PAGES * 1000, count
    return time.perf_counter() - started


def fresh_cache_call_us(url: str, calls: int = 20000) -> tuple[float, float]:
    from esi_client import ESIClient
    from esi_client.api.status import get_status

    with ESIClient(app_name="bench", contact="bench", base_url=url) as client:
        get_status.sync(client=client)
        started = time.perf_counter()
        for _ in range(calls):
            get_status.sync(client=client)
        cached = (time.perf_counter() - started) / calls * 1e6
        assert client.stats.requests == 1
    with httpx2.Client(base_url=url) as http:
        http.get("/status")
        started = time.perf_counter()
        for _ in range(200):
            http.get("/status")
        network = (time.perf_counter() - started) / 200 * 1e6
    return cached, network


def run() -> dict[str, float]:
    results: dict[str, float] = {}
    with fake_server() as url:
        asyncio.run(raw_all_pages(url))  # the server serialises each page once: warm it
        raw, typed = [], []
        for _ in range(3):
            raw.append(_timed(raw_all_pages, url))
            typed.append(_timed(typed_all_pages, url))
        raw_s, typed_s = statistics.median(raw), statistics.median(typed)
        report(
            "all_pages_typed_s",
            typed_s,
            "s",
            f"all_pages_async(get_markets_region_id_orders, {REGION}) "
            f"{PAGES} pages x 1000, concurrency {CONCURRENCY}",
            ("httpx2+orjson dicts", raw_s),
        )
        print(
            f"{'':<28} baseline: {raw_s:.2f} s "
            "(httpx2.AsyncClient + orjson.loads, same pages, same concurrency)"
        )
        cached_us, network_us = fresh_cache_call_us(url)
        report(
            "fresh_cache_call_us",
            cached_us,
            "us",
            "get_status.sync(client=client) with a fresh cache entry",
            ("one httpx2 GET /status on loopback", network_us),
        )
        call = (
            "from esi_client import ESIClient; from esi_client.api.status import get_status; "
            f"get_status.sync(client=ESIClient(app_name='b', contact='b', base_url='{url}'))"
        )
        cold_ms = python_startup_ms(call, repeat=9)
        httpx_ms = python_startup_ms("import httpx", repeat=9)
        report(
            "cold_start_ms",
            cold_ms,
            "ms",
            f'{sys.executable} -c "{call}"',
            ('python -c "import httpx"', httpx_ms),
        )
        results.update(
            all_pages_vs_raw_ratio=typed_s / raw_s,
            all_pages_typed_s=typed_s,
            all_pages_raw_s=raw_s,
            fresh_cache_call_us=cached_us,
            cold_start_ms=cold_ms,
            cold_start_vs_httpx_ratio=cold_ms / httpx_ms,
        )
    print("django-esi column: not measured (it needs a configured Django project; see the README)")
    return results
