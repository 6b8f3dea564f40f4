"""Typed means checked, and what CCP may add (enum values, keys) is never an error.

Bodies come from a loopback server: small ones take the checked `from_dict` path, big ones
(over 32 KiB) the msgspec path; both must give the same types and the same errors.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Generator
from typing import Any

import httpx2
import pytest

from esi_client import BadResponseError, ESIClient, ESIError
from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.sovereignty import get_sovereignty_systems
from esi_client.api.wallet import (
    get_characters_character_id_wallet,
    get_characters_character_id_wallet_journal,
)
from esi_client.decoding.checks import UnknownEnumValue
from tests.support.hostile_server import HostileServer, replies
from tests.test_hostile_paging import order

BIG = 400  # orders: over 32 KiB, the fast path


class _Bearer(httpx2.Auth):
    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.headers["Authorization"] = "Bearer not-a-real-token"
        yield request


def client_for(server: HostileServer, **options: Any) -> ESIClient:
    return ESIClient(
        app_name="hostile-tests",
        contact="tests@example.invalid",
        base_url=server.url,
        cache=False,
        auth=_Bearer(),
        **options,
    )


def orders(server: HostileServer, items: list[dict[str, Any]]) -> list[Any]:
    server.on("/markets/10000002/orders", replies(200, items))
    return get_markets_region_id_orders.sync(10000002, client=client_for(server))


@pytest.mark.parametrize("size", [3, BIG], ids=["small", "big"])
@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("price", "12.5", "number"),
        ("type_id", None, "integer"),
        ("is_buy_order", 0, "boolean"),
        ("order_id", 5.5, "integer"),
        ("issued", "yesterday", "date-time string"),
        ("range", 7, "string (MarketsRegionIdOrdersGetItemRange)"),
    ],
)
def test_a_wrong_type_names_its_path(
    server: HostileServer, size: int, field: str, value: Any, expected: str
) -> None:
    items = [order(n) for n in range(size)]
    items[2][field] = value
    with pytest.raises(BadResponseError) as caught:
        orders(server, items)
    error = caught.value
    assert (error.path, error.value, error.expected, error.field) == (f"[2].{field}", value, expected, field)
    assert str(error).startswith(f"GetMarketsRegionIdOrders: response does not match the spec at [2].{field}")


@pytest.mark.parametrize(
    ("length", "shown"),
    [(78, "'" + "9" * 78 + "'"), (79, "'" + "9" * 76 + "...")],  # reprs of 80 and 81 characters
)
def test_a_wrong_value_is_shown_in_80_characters_at_most(
    server: HostileServer, length: int, shown: str
) -> None:
    items = [order(n) for n in range(3)]
    items[2]["price"] = "9" * length
    with pytest.raises(BadResponseError) as caught:
        orders(server, items)
    assert str(caught.value).endswith(f"at [2].price: expected number, got {shown}")


@pytest.mark.parametrize(
    ("body", "shown"), [(b'"abc"', "'abc'"), (b"{}", "{}"), (b"null", "None"), (b"true", "True")]
)
def test_a_scalar_response_is_checked(server: HostileServer, body: bytes, shown: str) -> None:
    server.on("/characters/90000001/wallet", replies(200, body))
    with pytest.raises(BadResponseError) as caught:
        get_characters_character_id_wallet.sync(90000001, client=client_for(server))
    assert str(caught.value).endswith(
        f"response does not match the spec at the top level: expected number, got {shown}"
    )
    assert caught.value.path == ""


def test_a_required_field_missing_from_the_top_level_is_named(server: HostileServer) -> None:
    from esi_client.api.status import get_status

    server.on("/status", replies(200, {"server_version": "1", "start_time": "2026-01-01T00:00:00Z"}))
    with pytest.raises(BadResponseError) as caught:
        get_status.sync(client=client_for(server))
    assert str(caught.value).endswith("response lacks the required field 'players'")
    assert (caught.value.path, caught.value.field, caught.value.value) == ("players", "players", None)


def test_a_whole_number_in_a_number_field_is_a_float_on_both_paths(server: HostileServer) -> None:
    items = [order(n) for n in range(BIG)]
    for item in items:
        item["price"] = 31000000
    items[1]["price"] = 2**53 + 1
    big = orders(server, items)
    small = orders(server, items[:3])
    assert all(type(item.price) is float for item in big + small)
    assert big[:3] == small and big[1].price == small[1].price == float(2**53 + 1)
    assert all(type(item.order_id) is int for item in big + small)


def _journal_entry(n: int, ref_type: str) -> dict[str, Any]:
    return {"date": "2026-01-01T00:00:00Z", "description": "d", "id": n, "ref_type": ref_type, "amount": 1.5}


@pytest.mark.parametrize("size", [3, 600], ids=["small", "big"])
def test_an_unknown_enum_value_is_kept_counted_and_logged_once(
    server: HostileServer, size: int, caplog: pytest.LogCaptureFixture
) -> None:
    # A value of this run's own: "once" is once per process, and a process may run this twice.
    new_value = f"brand_new_reward_{size}_{uuid.uuid4().hex[:8]}"
    entries = [_journal_entry(n, "bounty_prizes") for n in range(size)]
    entries[1]["ref_type"] = entries[2]["ref_type"] = new_value
    server.on("/characters/90000001/wallet/journal", replies(200, entries))
    client = client_for(server)
    with caplog.at_level(logging.WARNING, logger="esi_client"):
        journal = get_characters_character_id_wallet_journal.sync(90000001, client=client)
        get_characters_character_id_wallet_journal.sync(90000001, client=client)
    assert len(journal) == size
    assert journal[1].ref_type == new_value and isinstance(journal[1].ref_type, UnknownEnumValue)
    assert journal[0].ref_type == "bounty_prizes" and not isinstance(journal[0].ref_type, UnknownEnumValue)
    assert client.stats.unknown_enum_values == 4
    warnings = [r for r in caplog.records if new_value in r.getMessage()]
    assert len(warnings) == 1 and "GetCharactersCharacterIdWalletJournal" in warnings[0].getMessage()


def test_unknown_keys_on_small_bodies_are_counted(server: HostileServer) -> None:
    items = [order(n) for n in range(3)]
    items[0]["brand_new_field"] = 1
    server.on("/markets/10000002/orders", replies(200, items))
    client = client_for(server)
    parsed = get_markets_region_id_orders.sync(10000002, client=client)
    assert parsed[0]["brand_new_field"] == 1
    assert client.stats.unknown_keys == 1


def test_a_union_object_becomes_the_member_whose_keys_fit(server: HostileServer) -> None:
    from esi_client.models import (
        SovereigntySystemsSolarsystemClaimAlliance,
        SovereigntySystemsSolarsystemClaimFaction,
        SovereigntySystemsSolarsystemClaimUnclaimed,
    )

    alliance = {
        "alliance_id": 99,
        "claimed_since": "2026-01-01T00:00:00Z",
        "corporation_id": 98000001,
        "development": {
            "activity_defense_multiplier": 1.5,
            "industrial_level": 1,
            "military_level": 2,
            "strategic_level": 3,
        },
        "is_capital_system": False,
        "sovereignty_hub": {"id": 1},
    }
    systems = [
        {"solar_system_id": 1, "claim": {"alliance": alliance}},
        {"solar_system_id": 2, "claim": {"faction": {"faction_id": 500001}}},
        {"solar_system_id": 3, "claim": {"unclaimed": True}},
    ]
    server.on("/sovereignty/systems", replies(200, {"solar_systems": systems}))
    parsed = get_sovereignty_systems.sync(client=client_for(server))
    claims = [system.claim for system in parsed.solar_systems]
    assert [type(claim) for claim in claims] == [
        SovereigntySystemsSolarsystemClaimAlliance,
        SovereigntySystemsSolarsystemClaimFaction,
        SovereigntySystemsSolarsystemClaimUnclaimed,
    ]
    assert all(not claim.additional_properties for claim in claims)


def test_every_decode_failure_is_an_esi_error(server: HostileServer) -> None:
    items = [order(n) for n in range(3)]
    del items[1]["volume_total"]
    with pytest.raises(ESIError) as caught:
        orders(server, items)
    assert isinstance(caught.value, BadResponseError)
    assert caught.value.path == "[1].volume_total" and caught.value.field == "volume_total"
    assert "lacks the required field '[1].volume_total'" in str(caught.value)
