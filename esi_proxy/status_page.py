"""The proxy's status page: per-group budget, cache hit rate, characters and recent errors,
on one small HTML page that refreshes itself."""

from __future__ import annotations

import time
from html import escape

from esi_client import ESIClient
from esi_proxy.metrics import ProxyMetrics

_STYLE = """
body{font:14px system-ui,sans-serif;margin:2em;color:#222;background:#fafafa}
h1{font-size:20px}h2{font-size:16px;margin-top:1.5em}
table{border-collapse:collapse}td,th{padding:4px 12px;border-bottom:1px solid #ddd;text-align:left}
.big{font-size:28px;font-weight:600}.card{display:inline-block;margin-right:2em}
.bar{background:#ddd;width:160px;height:10px}.bar>div{background:#3a7;height:10px}
"""


def status_html(client: ESIClient, metrics: ProxyMetrics, characters: list[str] | None = None) -> str:
    rate = metrics.hit_rate()
    answered = sum(metrics.requests.values())
    cards = [
        ("answered", f"{answered:,}"),
        ("cache hit rate", "-" if rate is None else f"{rate:.0%}"),
        ("sent to ESI", f"{int(client.stats.snapshot()['requests']):,}"),
        ("waited for limits", f"{metrics.wait_seconds:.1f} s"),
        ("up", f"{int(time.time() - metrics.started)} s"),
    ]
    card_html = "".join(
        f'<div class="card"><div class="big">{escape(value)}</div>{escape(label)}</div>'
        for label, value in cards
    )
    rows = []
    for group, left in metrics.budgets(client).items():
        limit = metrics.groups[group].rate_limit
        total = limit.max_tokens if limit is not None else 0
        share = 0.0 if left is None or not total else max(0.0, min(1.0, left / total))
        shown = "unknown yet" if left is None else f"{left:,} of {total:,}"
        rows.append(
            f"<tr><td>{escape(group)}</td><td>{shown}</td>"
            f'<td><div class="bar"><div style="width:{share:.0%}"></div></div></td></tr>'
        )
    budget = "".join(rows) or '<tr><td colspan="3">no rate-limited group called yet</td></tr>'
    errors = (
        "".join(
            f"<tr><td>{time.strftime('%H:%M:%S', time.gmtime(error.at))}</td>"
            f"<td>{escape(error.operation)}</td><td>{error.status}</td><td>{escape(error.message)}</td></tr>"
            for error in reversed(metrics.recent_errors)
        )
        or '<tr><td colspan="4">none</td></tr>'
    )
    people = "".join(f"<li>{escape(name)}</li>" for name in characters or []) or "<li>none logged in</li>"
    remain = getattr(client.error_budget, "remain", None)
    error_limit = "unknown yet" if remain is None else f"{remain} errors left in this window"
    return (
        '<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">'
        f"<title>esi proxy</title><style>{_STYLE}</style></head><body>"
        f"<h1>esi proxy → {escape(client.base_url)}</h1>{card_html}"
        "<h2>Rate-limit groups</h2><table><tr><th>group</th><th>tokens left</th><th></th></tr>"
        f"{budget}</table><h2>Error limit</h2><p>{error_limit}</p>"
        f"<h2>Characters</h2><ul>{people}</ul><h2>Recent errors</h2><table>"
        f"<tr><th>UTC</th><th>operation</th><th>status</th><th>error</th></tr>{errors}</table>"
        "</body></html>"
    )
