"""Big bodies take the msgspec fast path; whatever the path, a body parses to the same models.

The server here is a recording server answering scripted market pages, so each case controls
the exact bytes: schema-exact pages, a page with a key the spec lacks, a page missing a
required field, a page with a value of another type and a page cut short.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from esi_client import BadResponseError, ESIClient, RetryPolicy
from esi_client.api.market import get_markets_region_id_orders
from tests.support.recording_server import RecordingServer, Reply, recording_server

BIG = 400  # orders: ~94 KB, over the 32 KiB at which the fast path starts
SMALL = 3


def orders(count: int) -> list[dict[str, Any]]:
    return [
        {
            "duration": 90,
            "is_buy_order": number % 2 == 0,
            "issued": f"2026-10-{1 + number % 28:02d}T11:33:{number % 60:02d}Z",
            "location_id": 60003760,
            "min_volume": 1,
            "order_id": 6_000_000_000 + number,
            "price": 1000 + number if number % 3 == 0 else 1000.25 + number,  # ints occur in ESI floats
            "range": ["region", "station", "5"][number % 3],
            "system_id": 30000142,
            "type_id": 34 + number % 7,
            "volume_remain": 10 + number,
            "volume_total": 20 + number,
        }
        for number in range(count)
    ]


@pytest.fixture
def market() -> Iterator[tuple[RecordingServer, ESIClient]]:
    with recording_server() as server:
        client = ESIClient(
            app_name="esikit-tests",
            contact="tests@example.invalid",
            base_url=server.url,
            retry=RetryPolicy(max_retries=0),
            cache=False,  # each fetch reaches the server
        )
        with client:
            yield server, client


def serve(server: RecordingServer, items: list[dict[str, Any]] | bytes) -> None:
    body = items if isinstance(items, bytes) else orjson.dumps(items)
    server.replies["/markets/10000002/orders"] = Reply(200, body)


def fetch(client: ESIClient) -> list[Any]:
    return get_markets_region_id_orders.sync(10000002, client=client)


def fallbacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The runtime's DEBUG notes of big bodies that left the fast path."""
    return [record.getMessage() for record in caplog.records if "parsed by from_dict" in record.getMessage()]


def test_big_page_parses_to_the_same_models_as_small_pages(
    market: tuple[RecordingServer, ESIClient], caplog: pytest.LogCaptureFixture
) -> None:
    server, client = market
    items = orders(BIG)
    serve(server, items)
    with caplog.at_level(logging.DEBUG, logger="esi_client"):
        big = fetch(client)
    assert fallbacks(caplog) == []
    assert (client.stats.fast_decodes, client.stats.slow_decodes) == (1, 0)
    assert len(orjson.dumps(items)) > 32 * 1024
    small = []
    for start in range(0, BIG, SMALL):
        serve(server, items[start : start + SMALL])
        small.extend(fetch(client))
    assert big == small
    assert [order.order_id for order in big] == [item["order_id"] for item in items]
    assert big[4].range_ == "station" and big[4].issued.isoformat() == "2026-10-05T11:33:04+00:00"
    assert all(isinstance(order.price, float) for order in big)
    assert big[3].additional_properties == {}


def test_key_the_spec_lacks_is_kept(
    market: tuple[RecordingServer, ESIClient], caplog: pytest.LogCaptureFixture
) -> None:
    server, client = market
    items = orders(BIG)
    items[250]["x_new_field"] = {"added": "later"}
    serve(server, items)
    with caplog.at_level(logging.DEBUG, logger="esi_client"):
        parsed = fetch(client)
    [note] = fallbacks(caplog)
    assert (client.stats.fast_decodes, client.stats.slow_decodes) == (0, 1)
    assert note.startswith("GetMarketsRegionIdOrders:") and "x_new_field" in note
    assert len(parsed) == BIG
    assert parsed[250].additional_properties == {"x_new_field": {"added": "later"}}
    assert parsed[250].order_id == 6_000_000_250 and parsed[249].additional_properties == {}


def test_missing_required_field_names_it(market: tuple[RecordingServer, ESIClient]) -> None:
    server, client = market
    items = orders(BIG)
    del items[321]["volume_total"]
    serve(server, items)
    with pytest.raises(BadResponseError) as caught:
        fetch(client)
    assert caught.value.operation_id == "GetMarketsRegionIdOrders"
    assert caught.value.field == "volume_total"


def test_value_of_another_type_fails_as_a_small_body_would(market: tuple[RecordingServer, ESIClient]) -> None:
    server, client = market
    items = orders(BIG)
    items[7]["type_id"] = "34"
    serve(server, items)
    with pytest.raises(BadResponseError) as big:
        fetch(client)
    serve(server, items[6:9])
    with pytest.raises(BadResponseError) as small:
        fetch(client)
    assert (big.value.path, small.value.path) == ("[7].type_id", "[1].type_id")
    assert big.value.value == small.value.value == "34"
    assert big.value.expected == small.value.expected == "integer"


def test_truncated_big_body(market: tuple[RecordingServer, ESIClient]) -> None:
    server, client = market
    serve(server, orjson.dumps(orders(BIG))[:-100])
    with pytest.raises(BadResponseError, match="GetMarketsRegionIdOrders: response body is not valid JSON"):
        fetch(client)


def test_nested_models_take_the_fast_path_too(market: tuple[RecordingServer, ESIClient]) -> None:
    from esi_client.api.industry import get_industry_systems

    server, client = market
    activities = ["manufacturing", "invention", "copying", "reaction"]
    systems = [
        {
            "solar_system_id": 30_000_000 + number,
            "cost_indices": [
                {"activity": activity, "cost_index": round(0.0001 * (number + index), 6)}
                for index, activity in enumerate(activities[: 1 + number % 4])
            ],
        }
        for number in range(1500)
    ]
    body = orjson.dumps(systems)
    assert len(body) > 32 * 1024
    server.replies["/industry/systems"] = Reply(200, body)
    big = get_industry_systems.sync(client=client)
    assert (client.stats.fast_decodes, client.stats.slow_decodes) == (1, 0)
    server.replies["/industry/systems"] = Reply(200, orjson.dumps(systems[:4]))
    assert big[:4] == get_industry_systems.sync(client=client)
    assert [index.activity for index in big[3].cost_indices] == activities
    assert big[1499].cost_indices[2].cost_index == round(0.0001 * 1501, 6)
