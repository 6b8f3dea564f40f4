"""Each paged operation pages itself, typed to the item: `module.all_pages(...)` is a
`list[Item]` (async too); a cursor operation's `iter_cursor(...)` yields its records' type."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from uuid import UUID

from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.military_campaigns import get_military_campaigns_objectives_listing
from esi_client.models import MarketsRegionIdOrdersGetItem
from tests.support.fixtures import ClientFactory, FakeESIServer

CAMPAIGN = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def test_all_pages_of_a_module_returns_its_items(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    orders = get_markets_region_id_orders.all_pages(10000002, client=make_client(), order_type="all")
    assert len(orders) == fake_esi.state.market_pages * fake_esi.state.market_page_size
    assert all(isinstance(order, MarketsRegionIdOrdersGetItem) for order in orders)


async def test_all_pages_async_of_a_module(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    client = make_client()
    orders = await get_markets_region_id_orders.all_pages_async(10000002, client=client, order_type="buy")
    assert orders and all(order.is_buy_order for order in orders)
    await client.aclose()


async def test_cursor_walks_of_a_module(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    client = make_client()
    walk = get_military_campaigns_objectives_listing.iter_cursor(UUID(CAMPAIGN), client=client, limit=10)
    forwards = list(walk)
    backwards = [
        record
        async for record in get_military_campaigns_objectives_listing.aiter_cursor(
            UUID(CAMPAIGN), client=client, direction="before", limit=10
        )
    ]
    assert len(forwards) == len(backwards) == fake_esi.state.cursor_records
    assert {record.id for record in forwards} == {record.id for record in backwards}
    await client.aclose()


def test_mypy_sees_the_item_types(tmp_path: Path, generated_client: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        textwrap.dedent(
            f"""
            from uuid import UUID

            from esi_client import ESIClient
            from esi_client.paging import Walk, all_pages
            from esi_client.api.market import get_markets_region_id_orders as orders
            from esi_client.api.military_campaigns import (
                get_military_campaigns_objectives_listing as objectives,
            )

            async def main(client: ESIClient) -> None:
                reveal_type(orders.all_pages(10000002, client=client))
                reveal_type(await orders.all_pages_async(10000002, client=client))
                reveal_type(objectives.iter_cursor(UUID("{CAMPAIGN}"), client=client))
                reveal_type(objectives.aiter_cursor(UUID("{CAMPAIGN}"), client=client))
                reveal_type(all_pages(orders.sync_detailed, 10000002, client=client))
                walk = Walk(max_concurrency=2)
                reveal_type(await walk.all_pages_async(orders.asyncio_detailed, 1, client=client))
                all_pages(orders.sync_detailed, "The Forge", client=client)  # a region is an int
                all_pages(orders.sync_detailed, 10000002, client=client, order_typ="sell")  # no such argument
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--follow-imports=silent", "--cache-dir", str(tmp_path / "cache"),
         "--no-error-summary", str(probe)],
        capture_output=True, text=True, env={**os.environ, "MYPYPATH": ""}, timeout=300,
    )  # fmt: skip
    revealed = [
        line.split("Revealed type is ")[1] for line in result.stdout.splitlines() if "Revealed" in line
    ]
    item = "esi_client.models.markets_region_id_orders_get_item.MarketsRegionIdOrdersGetItem"
    record = "MilitaryCampaignsObjectivesDetailObjective"
    assert revealed[0] == revealed[1], result.stdout
    assert revealed[0].replace("builtins.", "") == f'"list[{item}]"', result.stdout
    assert revealed[2].startswith('"typing.Iterator[') and record in revealed[2], result.stdout
    assert revealed[3].startswith('"typing.AsyncIterator[') and record in revealed[3], result.stdout
    assert revealed[4] == revealed[5] == revealed[0], result.stdout  # the generic walk, typed the same
    errors = [line.split(": error: ")[1] for line in result.stdout.splitlines() if ": error: " in line]
    assert len(errors) == 2, result.stdout
    assert '"str"; expected "int"' in errors[0] and '"order_typ"' in errors[1], result.stdout
