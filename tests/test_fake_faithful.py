"""The fake's answers follow the request, as ESI's do: ids in the path and body come back,
filters are applied, a POST's body is part of its ETag, and names follow Accept-Language."""

from __future__ import annotations

from typing import Any

import httpx2

from tests.support.fixtures import FakeESIServer

HEADERS = {"X-Compatibility-Date": "2026-08-04"}


def test_ids_in_the_path_come_back(fake_esi: FakeESIServer) -> None:
    answer = httpx2.get(f"{fake_esi.url}/universe/types/34", headers=HEADERS).json()
    assert answer["type_id"] == 34


def test_market_filters_are_applied(fake_esi: FakeESIServer) -> None:
    params = {"order_type": "buy", "type_id": "34"}
    orders = httpx2.get(f"{fake_esi.url}/markets/10000002/orders", params=params, headers=HEADERS).json()
    assert orders and all(o["type_id"] == 34 and o["is_buy_order"] for o in orders)


def test_names_are_of_the_ids_asked(fake_esi: FakeESIServer) -> None:
    url = f"{fake_esi.url}/universe/names"
    first = httpx2.post(url, json=[34, 35, 30000142], headers=HEADERS)
    assert sorted(item["id"] for item in first.json()) == [34, 35, 30000142]
    other = httpx2.post(url, json=[36], headers={**HEADERS, "If-None-Match": first.headers["etag"]})
    assert other.status_code == 200 and [item["id"] for item in other.json()] == [36]


def test_names_follow_accept_language(fake_esi: FakeESIServer) -> None:
    url = f"{fake_esi.url}/universe/types/34"
    german = httpx2.get(url, headers={**HEADERS, "Accept-Language": "de"})
    english = httpx2.get(url, headers={**HEADERS, "Accept-Language": "en"})
    assert german.headers["content-language"] == "de" and english.headers["content-language"] == "en"
    assert german.json()["name"] != english.json()["name"]


def _walk(fake: FakeESIServer, direction: str) -> tuple[list[dict[str, Any]], list[str], int]:
    url = f"{fake.url}/freelance-jobs"
    token, seen, records, requests = "0", [], [], 0
    while requests < 50:
        requests += 1
        page = httpx2.get(url, params={direction: token, "limit": "10"}, headers=HEADERS).json()
        if not page["freelance_jobs"]:
            break
        records += page["freelance_jobs"]
        token = page["cursor"][direction]
        seen.append(token)
    return records, seen, requests


def test_cursor_walks_follow_ccps_contract(fake_esi: FakeESIServer) -> None:
    backwards, tokens, requests = _walk(fake_esi, "before")
    assert requests < 50, "the backward walk never reached its empty page"
    assert len(backwards) == fake_esi.state.cursor_records
    assert all(not token.isdigit() for token in tokens)  # opaque, not offsets
    forwards, _, _ = _walk(fake_esi, "after")
    stamps = [record["last_modified"] for record in forwards]
    assert stamps == sorted(stamps)
    bad = httpx2.get(f"{fake_esi.url}/freelance-jobs", params={"after": "not-a-token"}, headers=HEADERS)
    # A token that names no record: 404, as for a page that does not exist (the token's text is
    # valid input by the spec, so it is not a 400).
    assert bad.status_code == 404 and "cursor" in bad.json()["error"]


def test_after_returns_what_changed_since_the_token(fake_esi: FakeESIServer) -> None:
    url = f"{fake_esi.url}/freelance-jobs"
    first, _, _ = _walk(fake_esi, "after")
    last = httpx2.get(url, params={"after": "0", "limit": "100"}, headers=HEADERS).json()["cursor"]["after"]
    assert httpx2.get(url, params={"after": last}, headers=HEADERS).json()["freelance_jobs"] == []
    fake_esi.state.change_data()
    changed = httpx2.get(url, params={"after": last, "limit": "100"}, headers=HEADERS).json()
    newest = max(record["last_modified"] for record in first)
    assert changed["freelance_jobs"], "records changed, yet `after` returned nothing"
    assert len(changed["freelance_jobs"]) < len(first)  # only what changed, not everything
    assert all(record["last_modified"] > newest for record in changed["freelance_jobs"])
    known_ids = {record["id"] for record in first}
    assert {record["id"] for record in changed["freelance_jobs"]} <= known_ids
    everything, _, _ = _walk(fake_esi, "before")
    assert len(everything) == len(first)  # a change moves records, it does not add them
