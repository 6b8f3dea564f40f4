"""The fake ESI answers bad requests as ESI does: an ESI-shaped 400, counted in the error limit."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

HEADERS = {"X-Compatibility-Date": "2026-08-04"}


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "headers", "named"),
    [
        ("GET", "/markets/10000002/orders", {"type_id": "34"}, None, {}, "order_type"),
        ("GET", "/markets/10000002/orders", {"order_type": "both"}, None, {}, "order_type"),
        ("GET", "/universe/types/abc", {}, None, {}, "type_id"),
        ("GET", "/markets/10000002/orders", {"order_type": "all", "page": "0"}, None, {}, "page"),
        ("POST", "/universe/names", {}, b"", {}, "body"),
        ("POST", "/universe/names", {}, b'{"ids": [34]}', {}, "body"),
        ("POST", "/universe/names", {}, b'["x"]', {}, "body"),
        ("GET", "/status", {}, None, {"X-Compatibility-Date": "2099-01-01"}, "Compatibility"),
        ("GET", "/status", {}, None, {"X-Compatibility-Date": "2010-01-01"}, "Compatibility"),
    ],
)
def test_bad_requests_are_400(
    fake_esi: Any,
    method: str,
    path: str,
    params: dict[str, str],
    body: bytes | None,
    headers: dict[str, str],
    named: str,
) -> None:
    with httpx2.Client(base_url=fake_esi.url, headers={**HEADERS, **headers}) as client:
        before = fake_esi.state.error_limit.snapshot()[0]
        answer = client.request(method, path, params=params, content=body)
    assert answer.status_code == 400, answer.text[:300]
    assert named in answer.json()["error"]
    assert fake_esi.state.error_limit.snapshot()[0] == before - 1


def test_a_missing_compatibility_date_is_not_an_error(fake_esi: Any) -> None:
    assert httpx2.get(f"{fake_esi.url}/status").status_code == 200
