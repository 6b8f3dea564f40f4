"""The fake ESI answers bad requests as ESI does: an ESI-shaped 400, counted in the error limit."""

from __future__ import annotations

import httpx2
import pytest

from tests.support.fixtures import FakeESIServer

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
        ("GET", "/dogma/effects/19627564898230091776", {}, None, {}, "effect_id"),
        ("GET", "/freelance-jobs", {"limit": "5"}, None, {}, "limit"),
        ("GET", "/characters/90000001/search", {"categories": "agent", "search": "ab"}, None, {}, "search"),
        ("DELETE", "/characters/90000001/contacts", {"contact_ids": "1,abc"}, None, {}, "contact_ids"),
        ("POST", "/universe/ids", {}, b'["Jita", 34]', {}, "body"),
        ("POST", "/universe/names", {}, b"[1.2e19]", {}, "body"),  # an integer beyond int64
        ("POST", "/universe/names", {}, b"[-9223372036854775809]", {}, "body"),  # one below it
    ],
)
def test_bad_requests_are_400(
    fake_esi: FakeESIServer,
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


def test_a_missing_compatibility_date_is_not_an_error(fake_esi: FakeESIServer) -> None:
    answer = httpx2.get(f"{fake_esi.url}/status")
    assert answer.status_code == 200
    assert answer.headers["x-compatibility-date"] == fake_esi.spec["info"]["version"]  # what it served


def test_the_compatibility_dates_route_is_as_strict_as_the_others(fake_esi: FakeESIServer) -> None:
    url = f"{fake_esi.url}/meta/compatibility-dates"
    assert httpx2.get(url, headers={"X-Compatibility-Date": "{}"}).status_code == 400
    dates = httpx2.get(url, headers=HEADERS)
    assert dates.json() == {"compatibility_dates": [fake_esi.spec["info"]["version"]]}
    assert "x-esi-error-limit-remain" in dates.headers


def test_arrays_in_the_query_read_repeated_or_comma_separated(fake_esi: FakeESIServer) -> None:
    """OpenAPI's default repeats the name (`ids=1&ids=2`); ESI's clients also send `ids=1,2`."""
    token = httpx2.post(f"{fake_esi.url}/_fake/token", json={"scopes": "all"}).json()
    headers = {**HEADERS, "Authorization": f"Bearer {token['access_token']}"}
    url = f"{fake_esi.url}/characters/{token['character_id']}/contacts"
    for query in ("contact_ids=1&contact_ids=2", "contact_ids=1,2"):
        assert httpx2.delete(f"{url}?{query}", headers=headers).status_code == 204, query
    twenty_one = ",".join(str(n) for n in range(1, 22))  # the spec allows 20
    for query in (f"contact_ids={twenty_one}", "&".join(f"contact_ids={n}" for n in range(1, 22))):
        refused = httpx2.delete(f"{url}?{query}", headers=headers)
        assert refused.status_code == 400 and "contact_ids" in refused.json()["error"], query
    search = f"{fake_esi.url}/characters/{token['character_id']}/search?search=Fake"
    for query in ("&categories=agent,station", "&categories=agent&categories=station"):
        found = httpx2.get(search + query, headers=headers)
        assert found.status_code == 200 and set(found.json()) <= {"agent", "station"}, found.text
        assert len(found.json()) == 2, query
    assert set(httpx2.get(search + "&categories=station", headers=headers).json()) == {"station"}


def test_an_integer_written_with_a_zero_fraction_is_an_integer(fake_esi: FakeESIServer) -> None:
    """JSON Schema's reading: 34.0 is the integer 34 (schemathesis sends such ids)."""
    answer = httpx2.get(f"{fake_esi.url}/universe/types/34.0", headers=HEADERS)
    assert answer.status_code == 200 and answer.json()["type_id"] == 34
    assert httpx2.get(f"{fake_esi.url}/universe/types/34.5", headers=HEADERS).status_code == 400


@pytest.mark.parametrize(
    ("wanted", "served"),
    [
        ("{}", "en"),
        ("", "en"),
        ("*", "en"),
        ("de-DE", "de"),
        ("EN", "en"),
        ("xx, fr;q=0.5", "fr"),
        ("ja;q=x", "en"),
    ],
)
def test_accept_language_is_a_preference(fake_esi: FakeESIServer, wanted: str, served: str) -> None:
    """ESI reads Accept-Language as a preference: anything it cannot serve is answered in English."""
    with httpx2.Client(base_url=fake_esi.url, headers={**HEADERS, "Accept-Language": wanted}) as client:
        answer = client.get("/universe/types/34")
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-language"] == served
