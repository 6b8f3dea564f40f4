"""The fleet measure: the example Celery app (examples/fleet_app.py) with four workers (each
with its own temporary and lock directories, as on separate hosts) and beat, sharing one
PostgreSQL token store and one Redis, against the fake ESI + SSO with CCP's accounting: a small
error budget, 5 % injected 5xx and a share of 4xx, rate-limit windows scaled from 15 minutes to
10 s (so a run sees them refill) with one group saturated, access tokens expiring every few
seconds with rotating refresh tokens. Mid-run one worker is killed with
SIGKILL and started again. The same run with each process keeping its own limits is the baseline.

    python -m benchmarks.fleet [seconds]      (nox -s fleet)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
from cryptography.fernet import Fernet

from benchmarks._harness import save, spec_location
from esi_auth import SQLTokenStore, SSOApp, SSOConfig
from esi_client.api.market import get_markets_region_id_orders
from testbed.servers import fake_server_process, postgres_server, redis_server

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "fleet-app"
CALLBACK = "http://localhost:8765/callback"
WALLET = "esi-wallet.read_character_wallet.v1"
WORKERS = 4
ERROR_BUDGET = 100  # errors a minute, as at ESI
MARKET_TOKENS = 120  # the market group's bucket at the fake
WINDOW_SCALE = 1 / 90  # every rate-limit window scaled: the spec's 15 minutes become 10 s
ACCESS_TOKEN_SECONDS = 6
MARKET_PAGES = 20


def _log_in(fake: str, db_url: str, key: bytes, characters: int) -> None:
    app = SSOApp(
        SSOConfig(client_id=CLIENT_ID, callback_url=CALLBACK, login_url=fake),
        SQLTokenStore(db_url, secret_key=key),
    )
    for index in range(characters):
        character = {
            "character_id": 90001000 + index,
            "name": f"Fleet Pilot {index}",
            "owner": f"owner-{index}",
        }
        httpx2.post(f"{fake}/_fake/sso", json={"character": character}).raise_for_status()
        pending = app.start_login(WALLET)
        app.finish_login(httpx2.get(pending.url, follow_redirects=False).headers["location"])
    app.store.engine.dispose()


def _celery(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "examples.fleet_app", *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _worker(index: int, env: dict[str, str], work: Path) -> subprocess.Popen[bytes]:
    home = work / f"host-{index}"  # a host of its own: temporary and lock directories
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    own = {**env, "TMPDIR": str(home / "tmp"), "HOME": str(home)}
    args = ["worker", "--pool=threads", "--concurrency=4", "--loglevel=WARNING", "-n", f"w{index}@%h"]
    return _celery(args, own, work / f"worker-{index}.log")


@contextlib.contextmanager
def _services() -> Iterator[tuple[str, str, Path]]:
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="esikit-fleet-")))
        pg = stack.enter_context(contextlib.contextmanager(postgres_server)())
        redis_dir = work / "redis"
        redis_dir.mkdir()
        redis = stack.enter_context(contextlib.contextmanager(redis_server)(redis_dir))
        yield pg, redis, work


def run_fleet(seconds: float, *, shared: bool, characters: int = 6, kill: bool = True) -> dict[str, Any]:
    """One run; what the fake ESI + SSO saw, as the issue's figures."""
    market_group = get_markets_region_id_orders.OPERATION.rate_limit.group  # type: ignore[union-attr]
    with _services() as (pg, redis, work):
        app_option = ["--app", f"{CLIENT_ID}={CALLBACK}", "--error-budget", str(ERROR_BUDGET)]
        # 20 pages a region: a walk fetches 19 at once, so the market group is saturated in a
        # burst, where limits kept per process overshoot together
        app_option += ["--market-pages", str(MARKET_PAGES)]
        with fake_server_process(spec_location(), *app_option) as fake:
            httpx2.post(
                f"{fake}/_fake/sso", json={"access_token_seconds": ACCESS_TOKEN_SECONDS}
            ).raise_for_status()
            faults = {
                "server_error_rate": 0.05,
                "max_cache_age": 2,
                "market_page_size": 50,
                "rate_limit_overrides": {market_group: MARKET_TOKENS},
                "rate_window_scale": WINDOW_SCALE,
                # a share of 4xx: the type look-ups of each round are answered 404
                "forced": [{"status": 404, "count": 10**6, "operation_id": "GetUniverseTypesTypeId"}],
            }
            httpx2.post(f"{fake}/_fake/faults", json=faults).raise_for_status()
            key = Fernet.generate_key()
            _log_in(fake, pg, key, characters)
            env = {
                **os.environ,
                "ESI_FLEET_DB": pg,
                "ESI_FLEET_REDIS": redis,
                "ESI_CLIENT_ID": CLIENT_ID,
                "ESI_SECRET_KEY": key.decode(),
                "ESI_BASE_URL": fake,
                "ESI_SSO_URL": fake,
                "ESI_FLEET_ROUND_SECONDS": "2",
                # the margin scaled with the tokens' life (60 s of 20 min): with 60 s on 6-s
                # tokens every call would refresh, and a call held back by a limit would leave
                # its refresh unused, a refresh no expiry needed
                "ESI_REFRESH_MARGIN": "1.5",
                # one type look-up a round, answered 404: 30 errors a minute with the 5xx's ~30,
                # the error budget in play without holding every call back
                "ESI_FLEET_TYPES": "34",
                # six regions a round: walks on every worker at once, where limits kept per
                # process overshoot together
                "ESI_FLEET_REGIONS": ",".join(str(10000001 + n) for n in range(6)),
                "ESI_FLEET_LIMITS": "redis" if shared else "process",
                "PYTHONPATH": str(ROOT),
            }
            workers = [_worker(index, env, work) for index in range(WORKERS)]
            # No work is scheduled before every worker answers: on a busy machine one may take
            # many seconds to start, and the run would measure its start, not the fleet.
            _wait_for_workers(env, WORKERS)
            beat = _celery(
                ["beat", "--loglevel=WARNING", "-s", str(work / "beat-schedule")], env, work / "beat.log"
            )
            try:
                # The run's time counts from the fleet's first market charge, not from the
                # start of processes that may take long to start on a busy machine.
                _wait_for_first_charge(fake, market_group)
                time.sleep(seconds / 2)
                if kill:
                    workers[0].send_signal(signal.SIGKILL)  # mid-task, slots and all
                    workers[0].wait()
                    workers[0] = _worker(0, env, work)
                time.sleep(seconds / 2)
            finally:
                for process in [beat, *workers]:
                    process.terminate()
                for process in [beat, *workers]:
                    try:
                        process.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        process.kill()
            stats = httpx2.get(f"{fake}/_fake/stats").json()
            _keep_logs(work)
            stats["redis_fallbacks"] = sum(
                log.read_text(errors="replace").count("shared limits: Redis did not answer")
                for log in work.glob("worker-*.log")
            )
        store = SQLTokenStore(pg, secret_key=key)
        kept = {token.character_id for token in store.query().all()}
        store.engine.dispose()
    return _figures(stats, characters, len(kept), market_group)


def _wait_for_workers(env: dict[str, str], count: int, timeout: float = 180.0) -> None:
    """Until `count` workers answer Celery's ping (each has connected and is consuming)."""
    deadline = time.monotonic() + timeout
    answered = 0
    while time.monotonic() < deadline:
        ping = subprocess.run(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "examples.fleet_app",
                "inspect",
                "ping",
                "--timeout",
                "2",
                "-j",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        answered = ping.stdout.count('"ok"')
        if answered >= count:
            return
    raise RuntimeError(f"{answered} of {count} workers answered within {timeout:g} s of starting")


def _wait_for_first_charge(fake: str, group: str, timeout: float = 120.0) -> None:
    """Until the fake has charged the group's bucket once: the workers are up and walking."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        groups = httpx2.get(f"{fake}/_fake/stats").json()["rate_groups"]
        if groups.get(group, {}).get("tokens", 0) > 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the fleet made no {group} call within {timeout:g} s of starting")


def _keep_logs(work: Path) -> None:
    """The workers' and beat's logs, copied to $ESI_FLEET_LOGS when set (for a fleet of your own
    to compare with)."""
    target = os.environ.get("ESI_FLEET_LOGS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for log in work.glob("*.log"):
            shutil.copy(log, Path(target) / log.name)


def _figures(stats: dict[str, Any], characters: int, kept: int, market_group: str) -> dict[str, Any]:
    by_status = stats["by_status"]
    # Each refreshed access token a call used is one expiry a call needed refreshed.
    needed = sum(stats["refreshed_tokens_used"].values())
    # A refresh whose answer a killed worker never received is done again by the next one
    # (SSO takes the old token back): counted apart, as sso_replays, not as a second refresh.
    replays = stats.get("sso_replays", 0)
    # A character's newest refresh that no call used before the run stopped needed no expiry
    # yet: it is not counted either (an unused refresh before a later one still is: a duplicate).
    unused_last = stats.get("sso_refreshes_unused_last", 0)
    refreshes = stats.get("sso_refreshes", 0) - replays - unused_last
    market = stats["rate_groups"].get(market_group)
    # The budget of the whole windows from the market group's first charge (a floating window
    # allows `limit` tokens in each), against what was charged in them.
    allowed = market["whole_windows"] * market["limit"] * market["principals"] if market else 0
    return {
        "requests": stats["requests"],
        "420s": by_status.get("420", 0),
        "429s": by_status.get("429", 0),
        "refreshes": refreshes,
        "expiries_needed": needed,
        "refreshes_per_expiry": round(refreshes / needed, 3) if needed else None,
        "tokens_lost": stats.get("sso_revoked", 0) + (characters - kept),
        "pacing_efficiency": round(market["tokens_in_whole_windows"] / allowed, 3) if allowed else None,
        "market_windows": market["whole_windows"] if market else 0,
        "sso_replays": replays,
        "refreshes_unused_at_end": unused_last,
        # periods a worker kept its own limits because Redis did not answer in time
        "redis_fallbacks": stats["redis_fallbacks"],
        "duplicate_requests": stats["duplicates"],
        "duplicates_by_operation": stats["duplicates_by_operation"],
        "duplicates_by_reason": stats["duplicates_by_reason"],
        "duplicate_samples": stats["duplicate_samples"],
    }


def run(seconds: float = 60.0) -> dict[str, float]:
    shared = run_fleet(seconds, shared=True)
    baseline = run_fleet(seconds, shared=False)
    print(f"fleet (RedisLimits): {json.dumps(shared)}")
    print(f"baseline (each process its own limits): {json.dumps(baseline)}")
    results = {f"fleet_{name}": value for name, value in shared.items() if isinstance(value, int | float)}
    results |= {
        f"fleet_baseline_{name}": value for name, value in baseline.items() if isinstance(value, int | float)
    }
    return results


if __name__ == "__main__":
    save(run(float(sys.argv[1]) if len(sys.argv) > 1 else 60.0))
