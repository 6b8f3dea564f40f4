"""The fake looks like ESI to a program that reads its data: plausible values, answers that depend
on the request, ids outside its universe answered 404, and headers as ESI sends and reads them."""

from __future__ import annotations

import base64
import datetime
import email.utils
import gzip
import json
import re
import uuid
from typing import Any

import httpx2
import pytest

from tests.support.fixtures import FakeESIServer

HEADERS = {"X-Compatibility-Date": "2026-08-04", "Accept-Encoding": "identity"}
NAME = re.compile(r"[A-Z][a-z]+( [A-Z0-9][A-Za-z0-9-]*)+")


def _get(fake: FakeESIServer, path: str, **headers: str) -> httpx2.Response:
    return httpx2.get(f"{fake.url}{path}", headers={**HEADERS, **headers})


def _post(fake: FakeESIServer, path: str, body: object) -> httpx2.Response:
    return httpx2.post(f"{fake.url}{path}", json=body, headers=HEADERS)


def test_values_are_plausible_across_many_entities(fake_esi: FakeESIServer) -> None:
    players = _get(fake_esi, "/status").json()["players"]
    assert 10_000 <= players < 100_000
    for character_id in range(90_000_001, 90_000_041):
        character = _get(fake_esi, f"/characters/{character_id}").json()
        assert -10.0 <= character["security_status"] <= 10.0, character
        assert NAME.fullmatch(character["name"]), character["name"]
    for corporation_id in range(98_000_001, 98_000_031):
        corporation = _get(fake_esi, f"/corporations/{corporation_id}").json()
        assert 1 <= len(corporation["ticker"]) <= 5 and corporation["ticker"].upper() == corporation["ticker"]
        assert NAME.fullmatch(corporation["name"]), corporation["name"]
    for alliance_id in range(99_000_001, 99_000_011):
        alliance = _get(fake_esi, f"/alliances/{alliance_id}").json()
        assert len(alliance["ticker"]) <= 5 and NAME.fullmatch(alliance["name"]), alliance


def test_market_history_days_are_ordered_lowest_average_highest(fake_esi: FakeESIServer) -> None:
    for type_id in (34, 35, 36, 587, 11399):
        days = _get(fake_esi, f"/markets/10000002/history?type_id={type_id}").json()
        assert days and all(d["lowest"] <= d["average"] <= d["highest"] for d in days), days


def _systems_of(fake: FakeESIServer, region_id: int) -> set[int]:
    region = _get(fake, f"/universe/regions/{region_id}").json()
    systems: set[int] = set()
    for constellation_id in region["constellations"]:
        constellation = _get(fake, f"/universe/constellations/{constellation_id}").json()
        assert constellation["region_id"] == region_id
        systems.update(constellation["systems"])
    return systems


def test_orders_of_two_regions_are_their_own_in_their_own_systems(fake_esi: FakeESIServer) -> None:
    seen: dict[int, set[int]] = {}
    for region_id in (10000002, 10000043):
        orders = _get(fake_esi, f"/markets/{region_id}/orders?order_type=all").json()
        systems = _systems_of(fake_esi, region_id)
        assert {order["system_id"] for order in orders} <= systems
        for order in orders[:20]:
            station = _get(fake_esi, f"/universe/stations/{order['location_id']}").json()
            assert station["system_id"] == order["system_id"]
        seen[region_id] = {order["order_id"] for order in orders}
    assert not seen[10000002] & seen[10000043]


def test_a_system_and_its_stations_agree(fake_esi: FakeESIServer) -> None:
    system = _get(fake_esi, "/universe/systems/30000142").json()
    assert -1.0 <= system["security_status"] <= 1.0
    constellation = _get(fake_esi, f"/universe/constellations/{system['constellation_id']}").json()
    assert 30000142 in constellation["systems"]
    for station_id in system.get("stations", []):
        assert _get(fake_esi, f"/universe/stations/{station_id}").json()["system_id"] == 30000142


def test_universe_names_and_ids_answer_what_was_asked(fake_esi: FakeESIServer) -> None:
    asked = [90000007, 98000003, 99000005, 30000142, 60003760, 10000002, 34]
    answer = _post(fake_esi, "/universe/names", asked).json()
    assert [item["id"] for item in answer] == asked
    categories = [item["category"] for item in answer]
    assert categories == [
        "character", "corporation", "alliance", "solar_system", "station", "region", "inventory_type",
    ]  # fmt: skip
    character = _get(fake_esi, "/characters/90000007").json()
    assert answer[0]["name"] == character["name"]  # one name on every route
    ids = _post(fake_esi, "/universe/ids", [answer[0]["name"], answer[1]["name"], "Nobody Atall"]).json()
    assert ids["characters"] == [{"id": 90000007, "name": answer[0]["name"]}]
    assert ids["corporations"] == [{"id": 98000003, "name": answer[1]["name"]}]
    assert "Nobody Atall" not in str(ids)
    other = _post(fake_esi, "/universe/names", [90000008]).json()
    assert other[0]["name"] != answer[0]["name"]


@pytest.mark.parametrize(
    "path",
    [
        "/characters/1",
        "/corporations/5",
        "/alliances/12345",
        "/universe/systems/1",
        "/universe/types/1000000",
        "/universe/regions/10009999",
        "/markets/1/orders?order_type=all",
        "/universe/stations/70000000",
    ],
)
def test_ids_outside_the_universe_are_404(fake_esi: FakeESIServer, path: str) -> None:
    answer = _get(fake_esi, path)
    assert answer.status_code == 404 and "not found" in answer.json()["error"], answer.text


def test_names_of_unknown_ids_are_404(fake_esi: FakeESIServer) -> None:
    answer = _post(fake_esi, "/universe/names", [90000001, 5_000_000])
    assert answer.status_code == 404 and "5000000" in answer.json()["error"]


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Basic " + base64.b64encode(b":secret-without-id").decode(),
        "Basic =",
    ],
)
def test_a_malformed_basic_header_on_the_token_route_is_a_400(fake_esi: FakeESIServer, header: str) -> None:
    answer = httpx2.post(
        f"{fake_esi.url}/v2/oauth/token",
        data={"grant_type": "authorization_code", "code": "x"},
        headers={"Authorization": header},
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", answer.text


def test_if_modified_since_is_answered(fake_esi: FakeESIServer) -> None:
    first = _get(fake_esi, "/universe/types/34")
    since = first.headers["last-modified"]
    assert _get(fake_esi, "/universe/types/34", **{"If-Modified-Since": since}).status_code == 304
    earlier = email.utils.format_datetime(
        email.utils.parsedate_to_datetime(since) - datetime.timedelta(hours=1), usegmt=True
    )
    assert _get(fake_esi, "/universe/types/34", **{"If-Modified-Since": earlier}).status_code == 200
    assert _get(fake_esi, "/universe/types/34", **{"If-Modified-Since": "yesterday"}).status_code == 200


@pytest.mark.parametrize("path", ["/characters/90000001/portrait", "/alliances/99000001/icons"])
def test_routes_that_expire_at_a_time_of_day_say_so(fake_esi: FakeESIServer, path: str) -> None:
    answer = _get(fake_esi, path)
    expires = email.utils.parsedate_to_datetime(answer.headers["expires"])
    date = email.utils.parsedate_to_datetime(answer.headers["date"])
    assert (expires.hour, expires.minute, expires.second) == (11, 5, 0)
    assert datetime.timedelta(0) < expires - date <= datetime.timedelta(days=1)


def test_gzip_when_asked_and_only_then(fake_esi: FakeESIServer) -> None:
    plain = _get(fake_esi, "/markets/10000002/orders?order_type=all")
    zipped = httpx2.get(
        f"{fake_esi.url}/markets/10000002/orders?order_type=all",
        headers={**HEADERS, "Accept-Encoding": "gzip"},
    )
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] == plain.headers["etag"]
    assert zipped.content == plain.content  # httpx2 decoded it
    with httpx2.stream(
        "GET",
        f"{fake_esi.url}/markets/10000002/orders?order_type=all",
        headers={**HEADERS, "Accept-Encoding": "gzip"},
    ) as raw:
        wire = b"".join(raw.iter_raw())
    assert len(wire) < len(plain.content) / 2 and gzip.decompress(wire) == plain.content


def test_request_ids_are_shaped_as_esi_s(fake_esi: FakeESIServer) -> None:
    ids = {_get(fake_esi, "/status").headers["x-esi-request-id"] for _ in range(3)}
    assert len(ids) == 3 and all(uuid.UUID(value).version == 4 for value in ids)


@pytest.mark.parametrize("extra", ["datasource=tranquility", "foo=bar", "utm_source=x&b=1"])
def test_an_ignored_query_parameter_never_changes_the_data(fake_esi: FakeESIServer, extra: str) -> None:
    plain = _get(fake_esi, "/universe/types/34")
    decorated = _get(fake_esi, f"/universe/types/34?{extra}")
    assert decorated.status_code == 200
    assert (decorated.content, decorated.headers["etag"]) == (plain.content, plain.headers["etag"])


def test_the_fake_refuses_a_spec_with_a_malformed_x_pagination(spec_document: dict[str, Any]) -> None:
    from esi_fake import FakeESIServer
    from esi_generator.errors import SpecError

    broken = json.loads(json.dumps(spec_document))
    broken["paths"]["/freelance-jobs"]["get"]["x-pagination"] = "Cursor"
    with pytest.raises(SpecError, match="x-pagination"):
        FakeESIServer(broken)


def test_conditional_headers_never_turn_a_post_into_a_304(fake_esi: FakeESIServer) -> None:
    far = "Fri, 01 Jan 2100 00:00:00 GMT"
    answer = httpx2.post(
        f"{fake_esi.url}/universe/names",
        json=[34],
        headers={**HEADERS, "If-Modified-Since": far, "If-None-Match": "*"},
    )
    assert answer.status_code == 200 and answer.json()[0]["id"] == 34


@pytest.mark.parametrize(
    ("path", "methods"),
    [("/status", "GET, HEAD"), ("/characters/90000001/mail", "GET, HEAD, POST")],
)
def test_a_method_not_allowed_names_the_path_s_methods(
    fake_esi: FakeESIServer, path: str, methods: str
) -> None:
    answer = httpx2.request("TRACE", f"{fake_esi.url}{path}", headers=HEADERS)
    assert answer.status_code == 405 and answer.headers["allow"] == methods
