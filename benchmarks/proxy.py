"""`nox -s proxy-bench`: esi proxy against the fake ESI, each figure with its baseline measured
in the same run.

- proxy_hit_rps: cache hits answered per second, against a bare uvicorn app answering the same
  bytes with the same headers on the same machine (proxy_hit_vs_bare_uvicorn_ratio);
- proxy_miss_overhead_ratio: a miss through the proxy against the same GET sent to ESI directly;
- the fleet: 3 proxies sharing Redis, 8 clients of two habits (curl in a loop; an async Python
  client with 4 requests in flight) on a saturated rate-limit group for 60 s: the 429s and 420s
  ESI answered, the duplicate requests it saw, and the share of the group's budget used.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx2

from benchmarks._harness import report, save, spec_location
from benchmarks._load import requests_per_second
from testbed.servers import fake_server_process, free_port, proxy_process, redis_server, require_binary

HIT_PATH = "/universe/types/34"
GROUP = "char-detail"  # GET /characters/{id}/portrait: a new URL for every character id
GROUP_TOKENS = 60
WINDOW_SCALE = 1 / 90  # ESI's 15-minute window as 10 s: six windows in a minute


@contextmanager
def bare_uvicorn(answer: httpx2.Response) -> Iterator[str]:
    """The baseline server: uvicorn (the proxy's own settings) and an app that only answers."""
    with tempfile.TemporaryDirectory() as folder:
        recorded = Path(folder) / "answer.json"
        recorded.write_text(json.dumps({"body": answer.text, "headers": dict(answer.headers)}))
        with _uvicorn("benchmarks.bare_app:app", {"BARE_ANSWER": str(recorded)}) as url:
            yield url


@contextmanager
def _uvicorn(app: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen([*command, "--no-access-log"], env={**os.environ, **env})
    try:
        _wait_until_answers(f"http://127.0.0.1:{port}{HIT_PATH}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_answers(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx2.get(url)
            return
        except httpx2.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def hits(proxy: str) -> dict[str, float]:
    answer = httpx2.get(f"{proxy}{HIT_PATH}")
    assert httpx2.get(f"{proxy}{HIT_PATH}").headers["x-esi-proxy-cache"] == "hit"
    bare_rps, proxy_rps = [], []
    with bare_uvicorn(answer) as bare:
        for _ in range(3):  # interleaved: both see the same machine noise
            bare_rps.append(requests_per_second(f"{bare}{HIT_PATH}"))
            proxy_rps.append(requests_per_second(f"{proxy}{HIT_PATH}"))
    bare_median, proxy_median = statistics.median(bare_rps), statistics.median(proxy_rps)
    report("proxy_hit_rps", proxy_median, "/s", f"GET {HIT_PATH} (a fresh cache entry), 16 connections",
           ("bare uvicorn, the same bytes", bare_median))  # fmt: skip
    return {"proxy_hit_rps": proxy_median, "proxy_hit_vs_bare_uvicorn_ratio": proxy_median / bare_median}


LATENCY_S = 0.02  # the fake answers a miss after this long, as a near ESI does (its own: tens of ms)


def misses(proxy: str, fake: str, count: int = 150) -> dict[str, float]:
    """A new war each time through the proxy, directly, and through a bare forwarder (the floor
    of any proxy on uvicorn and httpx2), in turn: at the fake's own speed, then with LATENCY_S
    added to each answer."""
    with _uvicorn("benchmarks.bare_forwarder:app", {"BARE_UPSTREAM": fake}) as forwarder:
        through, direct, floor = _miss_times([proxy, fake, forwarder], count, first=2)
        httpx2.post(f"{fake}/_fake/faults", json={"delay_s": LATENCY_S}).raise_for_status()
        try:
            slowed, slowed_direct, _ = _miss_times([proxy, fake, forwarder], count // 3, first=2 + 3 * count)
        finally:
            httpx2.post(f"{fake}/_fake/faults", json={"delay_s": 0}).raise_for_status()
    command = f"GET /wars/{{id}}, a new id each time, ESI {LATENCY_S * 1000:g} ms away"
    report("proxy_miss_ms", slowed, "ms", command, ("the same GET sent directly", slowed_direct))
    print(f"{'':<28} at the fake's own speed (no latency): {through:.2f} ms vs {direct:.2f} ms, "
          f"{through / direct:.3g}x; the proxy adds {through - direct:.2f} ms\n"
          f"{'':<28} a bare forwarder (uvicorn + httpx2, nothing else): {floor:.2f} ms, "
          f"{floor / direct:.3g}x; the proxy costs {through / floor:.3g}x the floor")  # fmt: skip
    return {
        "proxy_miss_ms": slowed,
        "proxy_miss_overhead_ratio": slowed / slowed_direct,
        "proxy_miss_added_ms": through - direct,
        "proxy_miss_overhead_ratio_no_latency": through / direct,
        "proxy_bare_forwarder_overhead_ratio_no_latency": floor / direct,
        "proxy_miss_vs_bare_forwarder_ratio": through / floor,
    }


def _miss_times(bases: list[str], count: int, first: int) -> list[float]:
    """Median milliseconds of a miss through each of `bases`, asked in turn (the same noise)."""
    headers = {"User-Agent": "bench (bench)", "X-Compatibility-Date": "2026-08-04"}
    times: list[list[float]] = [[] for _ in bases]
    with httpx2.Client(headers=headers) as client:
        for base in bases:
            client.get(f"{base}/wars/1")  # connections open on every side
        for n in range(count):  # a new war each time: every request a miss
            for offset, (base, taken) in enumerate(zip(bases, times, strict=True)):
                started = time.perf_counter()
                answer = client.get(f"{base}/wars/{first + len(bases) * n + offset}")
                taken.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
    return [1000 * statistics.median(taken) for taken in times]


async def _async_client(proxies: list[str], first_id: int, until: float, failures: list[str]) -> None:
    async with httpx2.AsyncClient(timeout=120) as client:

        async def one(offset: int) -> None:
            n = offset
            while time.monotonic() < until:
                proxy = proxies[n % len(proxies)]
                answer = await client.get(f"{proxy}/characters/{first_id + n}/portrait")
                if answer.status_code != 200:
                    failures.append(f"{answer.status_code} {answer.text[:120]}")
                n += 4

        await asyncio.gather(*(one(offset) for offset in range(4)))


def _curl_loop(proxies: list[str], first_id: int, seconds: float) -> subprocess.Popen[bytes]:
    """A shell loop of curl requests, as a script or a cron job would make them."""
    curl = require_binary("curl")
    urls = " ".join(f"{proxies[n % len(proxies)]}/characters/{first_id + n}/portrait" for n in range(2000))
    script = f"end=$((SECONDS+{int(seconds)})); for url in {urls}; do [ $SECONDS -ge $end ] && break; "
    script += f'{curl} -s -o /dev/null -w "%{{http_code}}\\n" --max-time 120 "$url"; done'
    return subprocess.Popen(["bash", "-c", script], stdout=subprocess.PIPE)


def fleet(seconds: float) -> dict[str, float]:
    options = ["--market-pages", "2"]
    with ExitStack() as stack:
        fake = stack.enter_context(fake_server_process(spec_location(), *options))
        faults = {"rate_limit_overrides": {GROUP: GROUP_TOKENS}, "rate_window_scale": WINDOW_SCALE}
        httpx2.post(f"{fake}/_fake/faults", json=faults).raise_for_status()
        redis_folder = Path(tempfile.mkdtemp(prefix="proxy-redis-"))
        redis = stack.enter_context(contextmanager(redis_server)(redis_folder))
        settings = {"ESI_BASE_URL": fake, "ESI_APP_NAME": f"proxy-bench-{uuid.uuid4().hex[:8]}"}
        proxies = [stack.enter_context(proxy_process(settings, "--redis", redis)) for _ in range(3)]
        until = time.monotonic() + seconds
        curls = [_curl_loop(proxies, 92_000_000 + 10_000 * n, seconds) for n in range(4)]
        failures: list[str] = []

        async def python_clients() -> None:
            clients = (_async_client(proxies, 93_000_000 + 10_000 * n, until, failures) for n in range(4))
            await asyncio.gather(*clients)

        asyncio.run(python_clients())
        curl_codes = [code for process in curls for code in process.communicate()[0].decode().split()]
        stats = httpx2.get(f"{fake}/_fake/stats").json()
        fallbacks = sum(
            _counter(httpx2.get(f"{proxy}/metrics").text, "esi_proxy_shared_limit_fallbacks_total")
            for proxy in proxies
        )
    group = stats["rate_groups"][GROUP]
    allowed = group["whole_windows"] * group["limit"] * group["principals"]
    figures = {
        "proxy_fleet_429s": stats["by_status"].get("429", 0),
        "proxy_fleet_420s": stats["by_status"].get("420", 0),
        "proxy_fleet_duplicate_requests": stats["duplicates"],
        "proxy_fleet_pacing_efficiency": group["tokens_in_whole_windows"] / allowed if allowed else 0.0,
        "proxy_fleet_requests": stats["requests"],
        "proxy_fleet_client_errors": len(failures) + sum(code != "200" for code in curl_codes),
        # limit checks a proxy made alone because Redis did not answer in time (a busy machine)
        "proxy_fleet_redis_fallbacks": fallbacks,
    }
    print(f"fleet: 3 proxies on one Redis, 4 curl loops + 4 async clients, {GROUP} at {GROUP_TOKENS} "
          f"tokens a {900 * WINDOW_SCALE:g} s window, {seconds:g} s: {json.dumps(figures)}")  # fmt: skip
    if failures:
        print(f"  client errors (first 3): {failures[:3]}")
    return figures


def _counter(metrics: str, name: str) -> int:
    return next(
        (int(float(line.split()[-1])) for line in metrics.splitlines() if line.startswith(name + " ")), 0
    )


def run(seconds: float = 60.0, parts: tuple[str, ...] = ("hits", "misses", "fleet")) -> dict[str, float]:
    results: dict[str, float] = {}
    with fake_server_process(spec_location()) as fake, proxy_process({"ESI_BASE_URL": fake}) as proxy:
        if "hits" in parts:
            results |= hits(proxy)
        if "misses" in parts:
            results |= misses(proxy, fake)
    if "fleet" in parts:
        results |= fleet(seconds)
    return results


if __name__ == "__main__":
    # python -m benchmarks.proxy [SECONDS] [hits|misses|fleet ...]
    arguments = sys.argv[1:]
    seconds = float(arguments.pop(0)) if arguments and arguments[0].replace(".", "").isdigit() else 60.0
    save(run(seconds, tuple(arguments) or ("hits", "misses", "fleet")))
