"""The fake's answers follow the request, as ESI's do: ids in the path and body come back,
filters are applied, a POST's body is part of its ETag, and names follow Accept-Language."""

from __future__ import annotations

from typing import Any

import httpx2

HEADERS = {"X-Compatibility-Date": "2026-08-04"}


def test_ids_in_the_path_come_back(fake_esi: Any) -> None:
    answer = httpx2.get(f"{fake_esi.url}/universe/types/34", headers=HEADERS).json()
    assert answer["type_id"] == 34


def test_market_filters_are_applied(fake_esi: Any) -> None:
    params = {"order_type": "buy", "type_id": "34"}
    orders = httpx2.get(f"{fake_esi.url}/markets/10000002/orders", params=params, headers=HEADERS).json()
    assert orders and all(o["type_id"] == 34 and o["is_buy_order"] for o in orders)


def test_names_are_of_the_ids_asked(fake_esi: Any) -> None:
    url = f"{fake_esi.url}/universe/names"
    first = httpx2.post(url, json=[34, 35, 30000142], headers=HEADERS)
    assert sorted(item["id"] for item in first.json()) == [34, 35, 30000142]
    other = httpx2.post(url, json=[36], headers={**HEADERS, "If-None-Match": first.headers["etag"]})
    assert other.status_code == 200 and [item["id"] for item in other.json()] == [36]


def test_names_follow_accept_language(fake_esi: Any) -> None:
    url = f"{fake_esi.url}/universe/types/34"
    german = httpx2.get(url, headers={**HEADERS, "Accept-Language": "de"})
    english = httpx2.get(url, headers={**HEADERS, "Accept-Language": "en"})
    assert german.headers["content-language"] == "de" and english.headers["content-language"] == "en"
    assert german.json()["name"] != english.json()["name"]
