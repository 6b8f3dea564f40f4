"""Issue 3's figures, against `esi fake-server` in its own process:

(a) all pages of a 300-page x 1000-order market endpoint into typed models, as a ratio to plain
    httpx2 + orjson producing dicts at the same concurrency;
(b) a fresh-cache call, in microseconds;
(c) cold start to first request (import + client + one call) in a new interpreter, against
    `python -c "import httpx"`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx2
import orjson

from benchmarks._harness import command_startup_ms, interleaved_startup_samples_ms, report, spec_location

PAGES = 300
CONCURRENCY = 16
REGION = 10000002
DJANGO_ESI_PYTHON = "ESIKIT_DJANGO_ESI_PYTHON"


def fake_server() -> AbstractContextManager[str]:
    """`esi fake-server` in its own process (the same helper the tests use)."""
    from testbed.servers import fake_server_process

    return fake_server_process(spec_location(), "--market-pages", str(PAGES))


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
        orders = await all_pages_async(get_markets_region_id_orders.asyncio_detailed, REGION, client=client)
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
        for _ in range(5):
            raw.append(_timed(raw_all_pages, url))
            typed.append(_timed(typed_all_pages, url))
        raw_s, typed_s = statistics.median(raw), statistics.median(typed)
        report(
            "all_pages_typed_s",
            typed_s,
            "s",
            f"all_pages_async(get_markets_region_id_orders.asyncio_detailed, {REGION}) "
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
        raw_call = (
            "import httpx2, orjson; orjson.loads(httpx2.Client(transport=httpx2.HTTPTransport("
            f"verify=False)).get('{url}/status').content)"
        )
        commands = [[sys.executable, "-c", code] for code in (call, "import httpx", raw_call)]
        (cold_ms, cold_min_ms), (httpx_ms, _), (raw_call_ms, _) = interleaved_startup_samples_ms(commands, 15)
        report(
            "cold_start_ms",
            cold_ms,
            "ms",
            f'{sys.executable} -c "{call}"',
            ('python -c "import httpx"', httpx_ms),
        )
        print(
            f"{'':<28} and {cold_ms / raw_call_ms:.3g}x plain httpx2 + orjson doing the same GET "
            f"({raw_call_ms:.0f} ms): what esikit adds to the HTTP stack's own start"
        )
        print(f"{'':<28} fastest of 15: {cold_min_ms:.0f} ms (medians move with the host's load)")
        results.update(
            all_pages_vs_raw_ratio=typed_s / raw_s,
            all_pages_typed_s=typed_s,
            all_pages_raw_s=raw_s,
            fresh_cache_call_us=cached_us,
            cold_start_ms=cold_ms,
            cold_start_min_ms=cold_min_ms,
            cold_start_vs_httpx_ratio=cold_ms / httpx_ms,
            cold_start_vs_raw_httpx2_call_ratio=cold_ms / raw_call_ms,
        )
        results.update(django_esi_column(url, typed_s, cached_us, cold_ms))
    return results


def django_esi_column(url: str, typed_s: float, cached_us: float, cold_ms: float) -> dict[str, float]:
    """django-esi 10 on the same work, from its own venv (made by `nox -s bench`)."""
    python = os.environ.get(DJANGO_ESI_PYTHON, "")
    if not python or not Path(python).is_file():
        print(f"django-esi column: not measured (${DJANGO_ESI_PYTHON} is unset; nox -s bench sets it)")
        return {}
    if shutil.which("redis-server") is None:
        print("django-esi column: not measured (its rate limiting needs Redis: no redis-server here)")
        return {}
    script = [python, str(Path(__file__).with_name("django_esi_column.py"))]
    try:
        pages, cached, cold = _django_esi_runs(script, url)
    except subprocess.CalledProcessError as failed:
        error = failed.stderr.decode() if isinstance(failed.stderr, bytes) else failed.stderr or ""
        last = error.strip().splitlines()[-1:] or ["no output"]
        print(f"django-esi column: not measured (its run failed: {last[0]})")
        return {}
    assert pages["items"] == PAGES * 1000, pages
    print(f"django-esi 10 column (its own venv: {python}; Django configured in-process, django-redis cache):")
    for name, theirs, ours, unit in (
        ("all_pages", pages["all_pages_s"], typed_s, "s"),
        ("fresh_cache_call", cached["fresh_cache_call_us"], cached_us, "us"),
        ("cold_start", cold, cold_ms, "ms"),
    ):
        print(f"  {name:<26} {theirs:>10.2f} {unit:<3} ({theirs / ours:.3g}x esikit)")
    print(f"  command: {' '.join(script)} URL SPEC REDIS pages|cached|cold")
    return {
        "django_esi_all_pages_s": pages["all_pages_s"],
        "django_esi_fresh_cache_call_us": cached["fresh_cache_call_us"],
        "django_esi_cold_start_ms": cold,
    }


def _django_esi_runs(script: list[str], url: str) -> tuple[dict[str, float], dict[str, float], float]:
    from testbed.servers import redis_server

    with tempfile.TemporaryDirectory() as work:
        spec = Path(work) / "spec.json"  # CCP's spec with `servers` naming the fake ESI; deleted after
        document = orjson.loads(Path(spec_location()).read_bytes())
        spec.write_bytes(orjson.dumps({**document, "servers": [{"url": url}]}))
        with contextmanager(redis_server)(Path(work)) as redis_url:
            arguments = [*script, url, str(spec), redis_url]
            pages = _column_run([*arguments, "pages"])
            cached = _column_run([*arguments, "cached"])
            cold = command_startup_ms([*arguments, "cold"], repeat=3)
    return pages, cached, cold


def _column_run(command: list[str]) -> dict[str, float]:
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
