"""The HTTP request a call sends, built from what a generated function asks for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx2


def build_request(
    http: httpx2.Client | httpx2.AsyncClient,
    method: str,
    request: Mapping[str, Any],
    headers: Mapping[str, str] | None,
    extensions: dict[str, Any],
) -> httpx2.Request:
    """The request, its URL joined to the client's base as httpx2 joins a relative one and its
    query encoded as httpx2 encodes `params=`, but parsed once rather than three times (a miss's
    request costs ~20 µs to build, not ~60)."""
    url, params = request["url"], request.get("params")
    if url.startswith("/"):
        query = f"?{httpx2.QueryParams(params)}" if params else ""
        url, params = f"{str(http.base_url).rstrip('/')}{url}{query}", None
    return http.build_request(
        method, url, params=params, json=request.get("json"), headers=headers, extensions=extensions
    )
