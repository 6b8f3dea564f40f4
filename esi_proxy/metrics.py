"""What the proxy did, counted for /metrics (Prometheus's text format) and the status page."""

from __future__ import annotations

import time
from collections import Counter, deque

from attrs import frozen

from esi_client import ESIClient
from esi_client._operation import Operation


@frozen
class RecentError:
    at: float
    operation: str
    status: int
    message: str


class ProxyMetrics:
    """Counters of one proxy process (each process of `--workers N` has its own)."""

    def __init__(self) -> None:
        self.started = time.time()
        self.requests: Counter[tuple[str, int]] = Counter()  # (operation, status)
        self.cache: Counter[str] = Counter()  # hit, miss, revalidated, coalesced, refused
        self.wait_seconds = 0.0
        self.replayed = 0  # hits answered from the kept replies, before the runtime
        self.token_refreshes = 0
        self.recent_errors: deque[RecentError] = deque(maxlen=20)
        self.groups: dict[str, Operation] = {}  # a rate-limit group, by one of its operations

    def token_refreshed(self, **details: object) -> None:
        self.token_refreshes += 1

    def count(
        self, operation: Operation | None, status: int, cache: str, waited: float, error: str = ""
    ) -> None:
        name = operation.id if operation is not None else "-"
        self.requests[(name, status)] += 1
        self.cache[cache] += 1
        self.wait_seconds += waited
        if operation is not None and operation.rate_limit is not None:
            self.groups.setdefault(operation.rate_limit.group, operation)
        if status >= 400:
            self.recent_errors.append(RecentError(time.time(), name, status, error[:300]))

    def hit_rate(self) -> float | None:
        answered = sum(self.cache[result] for result in ("hit", "miss", "revalidated", "coalesced", "mixed"))
        return None if not answered else (self.cache["hit"] + self.cache["coalesced"]) / answered

    def budgets(self, client: ESIClient) -> dict[str, int | None]:
        """Each rate-limit group's tokens left for public calls, as this process believes."""
        remaining = getattr(client.rate_buckets, "remaining", None)
        return {
            group: remaining(operation, None) if remaining is not None else None
            for group, operation in sorted(self.groups.items())
        }

    def render(self, client: ESIClient) -> str:
        lines: list[str] = []

        def family(name: str, kind: str, text: str) -> None:
            lines.extend((f"# HELP {name} {text}", f"# TYPE {name} {kind}"))

        family("esi_proxy_requests_total", "counter", "Requests answered, by operation and status.")
        for (operation, status), value in sorted(self.requests.items()):
            lines.append(f'esi_proxy_requests_total{{operation="{operation}",status="{status}"}} {value}')
        family("esi_proxy_cache_results_total", "counter", "Answers by cache result.")
        for result, value in sorted(self.cache.items()):
            lines.append(f'esi_proxy_cache_results_total{{result="{result}"}} {value}')
        stats = client.stats.snapshot()
        family("esi_proxy_replayed_total", "counter", "Hits answered from kept replies, before the runtime.")
        lines.append(f"esi_proxy_replayed_total {self.replayed}")
        family("esi_proxy_esi_requests_total", "counter", "HTTP requests sent to ESI (retries included).")
        lines.append(f"esi_proxy_esi_requests_total {int(stats['requests'])}")
        runtime = {
            "coalesced": "Answers shared with an identical request in flight.",
            "retries": "Requests sent again (a 5xx, a lost connection, a 429's wait).",
            "not_modified": "304s from ESI: a kept copy renewed.",
            "shared_limit_fallbacks": "Limit checks made in this process alone: Redis did not answer.",
        }
        for counter, text in runtime.items():
            family(f"esi_proxy_{counter}_total", "counter", text)
            lines.append(f"esi_proxy_{counter}_total {int(stats[counter])}")
        family("esi_proxy_wait_seconds_total", "counter", "Seconds waited for ESI's rate and error limits.")
        lines.append(f"esi_proxy_wait_seconds_total {self.wait_seconds:.3f}")
        family("esi_proxy_token_refreshes_total", "counter", "Access tokens refreshed at EVE SSO.")
        lines.append(f"esi_proxy_token_refreshes_total {self.token_refreshes}")
        family("esi_proxy_rate_budget_remaining", "gauge", "Tokens left in a group (public calls).")
        for group, left in self.budgets(client).items():
            if left is not None:
                lines.append(f'esi_proxy_rate_budget_remaining{{group="{group}"}} {left}')
        remain = getattr(client.error_budget, "remain", None)
        if isinstance(remain, int):
            family("esi_proxy_error_budget_remaining", "gauge", "ESI's error limit left in this window.")
            lines.append(f"esi_proxy_error_budget_remaining {remain}")
        return "\n".join(lines) + "\n"
