"""One worker process of a fleet test: calls one operation many times, concurrently, with its
limits in this process or in Redis, and prints what happened as JSON. It prints `ready` once
set up and starts when it reads `go`.

    python -m tests.support.fleet_worker URL OPERATION CALLS [--redis URL] [--lease S] [--max-wait S]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from esi_client import ESIClient, RetryPolicy
from esi_client.errors import ErrorLimitedError, ESIResponseError, RateLimitedError
from esi_client.operations import get_operation, load_module
from esi_client.shared_limits import RedisLimits


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("operation")
    parser.add_argument("calls", type=int)
    parser.add_argument("--redis")
    parser.add_argument("--lease", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-wait", type=float, default=1.0)
    options = parser.parse_args(argv)
    limits = (
        RedisLimits(options.redis, app="fleet-test", lease_seconds=options.lease) if options.redis else None
    )
    client = ESIClient(
        app_name="fleet-test",
        contact="tests@example.invalid",
        base_url=options.url,
        cache=False,
        max_concurrency=options.concurrency,
        max_wait=options.max_wait,
        retry=RetryPolicy(max_retries=0),
        limits=limits,
    )
    module = load_module(get_operation(options.operation))
    outcomes: Counter[str] = Counter()

    def call(_: int) -> None:
        try:
            module.sync_detailed(client=client)
            outcomes["ok"] += 1
        except (ErrorLimitedError, RateLimitedError) as held:
            outcomes["held back" if not held.sent else f"http {held.status}"] += 1
        except ESIResponseError as failed:
            outcomes[f"http {failed.status}"] += 1

    # Ready, then wait for the test's word: the fleet starts at one moment, however long each
    # process took to start (on a busy machine, seconds apart).
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 2
    with ThreadPoolExecutor(options.concurrency) as pool:
        list(pool.map(call, range(options.calls)))
    print(json.dumps({**outcomes, "fallbacks": client.stats.shared_limit_fallbacks}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
