"""The floor under `proxy_miss_overhead_ratio`: a forwarder that does nothing but forward (uvicorn
and one httpx2.AsyncClient, the proxy's own two HTTP ends) to $BARE_UPSTREAM. No cache, no
limits, no checks: what any proxy built on these parts costs before it does anything."""

from __future__ import annotations

import os
from typing import Any

import httpx2

_upstream = httpx2.AsyncClient(base_url=os.environ["BARE_UPSTREAM"])
_dropped = {"content-length", "transfer-encoding", "connection", "content-encoding", "date", "server"}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = {name.decode(): value.decode() for name, value in scope["headers"] if name != b"host"}
    answer = await _upstream.get(scope["path"], params=scope["query_string"].decode(), headers=headers)
    body = answer.content
    kept = [(name, value) for name, value in answer.headers.items() if name not in _dropped]
    forwarded = [(name.encode(), value.encode()) for name, value in kept]
    forwarded.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": answer.status_code, "headers": forwarded})
    await send({"type": "http.response.body", "body": body})
