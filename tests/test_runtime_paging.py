"""Paging: every item once and in order, restarts on a mid-walk change, cursor walks, progress."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.military_campaigns import get_military_campaigns_objectives_listing
from esi_client.api.wars import get_wars_war_id_killmails
from esi_client.paging import PagingError, Walk, aiter_cursor, all_pages, iter_cursor
from tests.support.fixtures import ClientFactory, FakeESIServer


def _order_ids(orders: list[Any]) -> list[int]:
    return [order.order_id for order in orders]


def test_all_pages_in_order(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    progress: list[tuple[int, int]] = []
    orders = Walk(on_page=lambda d, t: progress.append((d, t))).all_pages(
        get_markets_region_id_orders.sync_detailed, 10000002, client=make_client()
    )
    pages, size = fake_esi.state.market_pages, fake_esi.state.market_page_size
    ids = _order_ids(orders)  # one region's orders, in page order
    assert ids == list(range(ids[0], ids[0] + pages * size))
    assert fake_esi.state.stats.count("GetMarketsRegionIdOrders") == pages
    assert progress[0] == (1, pages) and progress[-1] == (pages, pages) and len(progress) == pages


async def test_all_pages_async_in_order(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    client = make_client(max_concurrency=3)
    progress: list[tuple[int, int]] = []
    orders = await Walk(on_page=lambda d, t: progress.append((d, t))).all_pages_async(
        get_markets_region_id_orders.asyncio_detailed, 10000002, client=client
    )
    pages, size = fake_esi.state.market_pages, fake_esi.state.market_page_size
    ids = _order_ids(orders)
    assert ids == list(range(ids[0], ids[0] + pages * size))
    assert fake_esi.state.stats.max_in_flight <= 3
    assert progress == [(done, pages) for done in range(1, pages + 1)]
    await client.aclose()


def test_small_pages_of_a_generic_operation(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    fake_esi.state.page_count, fake_esi.state.page_size = 4, 7
    killmails = all_pages(get_wars_war_id_killmails.sync_detailed, 100, client=make_client())
    assert len(killmails) == 28
    assert fake_esi.state.stats.count("GetWarsWarIdKillmails") == 4


@pytest.mark.parametrize("use_async", [False, True])
async def test_restart_when_data_changes_mid_walk(
    fake_esi: FakeESIServer, make_client: ClientFactory, use_async: bool
) -> None:
    fake_esi.state.faults.change_data_after = 3  # pages 1-2 of the old data, 3-5 of the new
    client = make_client(max_concurrency=1)
    if use_async:
        orders = await Walk().all_pages_async(
            get_markets_region_id_orders.asyncio_detailed, 10000002, client=client
        )
        await client.aclose()
    else:
        orders = all_pages(get_markets_region_id_orders.sync_detailed, 10000002, client=client)
    pages = fake_esi.state.market_pages
    assert fake_esi.state.stats.count("GetMarketsRegionIdOrders") > pages  # it walked again
    fresh = all_pages(get_markets_region_id_orders.sync_detailed, 10000002, client=make_client(cache=False))
    assert [(o.order_id, o.price) for o in orders] == [(o.order_id, o.price) for o in fresh]


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("max_restarts", [None, 1])  # None: the default, 3
async def test_gives_up_when_data_never_settles(
    fake_esi: FakeESIServer,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
    use_async: bool,
    max_restarts: int | None,
) -> None:
    state = fake_esi.state
    original = state.page_served

    def always_changing() -> None:
        original()
        state.generation += 1
        state.generation_time += 1

    monkeypatch.setattr(state, "page_served", always_changing)
    walk = Walk() if max_restarts is None else Walk(max_restarts=max_restarts)
    walks = (3 if max_restarts is None else max_restarts) + 1
    client = make_client(max_concurrency=1)
    with pytest.raises(PagingError) as caught:
        if use_async:
            await walk.all_pages_async(get_markets_region_id_orders.asyncio_detailed, 10000002, client=client)
        else:
            walk.all_pages(get_markets_region_id_orders.sync_detailed, 10000002, client=client)
    assert str(caught.value) == f"GetMarketsRegionIdOrders: the data changed during each of {walks} walks"
    assert caught.value.operation_id == "GetMarketsRegionIdOrders"
    assert state.stats.count("GetMarketsRegionIdOrders") == state.market_pages * walks  # every walk, whole


def test_cursor_walk_forwards(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    records = list(
        iter_cursor(
            get_military_campaigns_objectives_listing.sync,
            UUID("3f2504e0-4f89-41d3-9a0c-0305e82c3301"),
            client=make_client(),
            limit=10,
        )
    )
    assert len(records) == fake_esi.state.cursor_records
    assert len({record.id for record in records}) == len(records)
    assert fake_esi.state.stats.count("GetMilitaryCampaignsObjectivesListing") == 4  # 10 + 10 + 5 + empty


async def test_cursor_walk_backwards_async(fake_esi: FakeESIServer, make_client: ClientFactory) -> None:
    client = make_client()
    forwards = list(
        iter_cursor(
            get_military_campaigns_objectives_listing.sync,
            UUID("3f2504e0-4f89-41d3-9a0c-0305e82c3301"),
            client=client,
            limit=10,
        )
    )
    backwards = [
        record
        async for record in aiter_cursor(
            get_military_campaigns_objectives_listing.asyncio,
            UUID("3f2504e0-4f89-41d3-9a0c-0305e82c3301"),
            client=client,
            before="0",
            limit=10,
        )
    ]
    assert sorted(r.id for r in backwards) == sorted(r.id for r in forwards)
    await client.aclose()


def test_wrong_kind_of_paging_is_refused(make_client: ClientFactory) -> None:
    with pytest.raises(TypeError) as wrong_paging:
        all_pages(get_military_campaigns_objectives_listing.sync_detailed, UUID(int=1), client=make_client())  # type: ignore[arg-type]
    assert (
        str(wrong_paging.value)
        == "GetMilitaryCampaignsObjectivesListing is not paged by page (paging: cursor)"
    )


def test_a_walk_is_given_the_generated_function_that_answers_a_response(make_client: ClientFactory) -> None:
    """`sync` answers the items of one page, not the Response (headers) a walk reads: refused."""
    with pytest.raises(TypeError) as wrong_form:
        all_pages(get_markets_region_id_orders.sync, 10000002, client=make_client())  # type: ignore[arg-type]
    assert str(wrong_form.value) == (
        "sync is not a generated operation's sync_detailed "
        "(pass get_markets_region_id_orders.sync_detailed, say)"
    )
    with pytest.raises(TypeError, match=r"^a walk of pages needs client=ESIClient\(...\), not NoneType$"):
        all_pages(get_markets_region_id_orders.sync_detailed, 10000002, client=None)  # type: ignore[arg-type]


async def test_a_cursor_walk_of_the_wrong_operation_or_both_directions_is_refused(
    make_client: ClientFactory,
) -> None:
    from esi_client.api.freelance_jobs import get_freelance_jobs_listing

    client = make_client()
    with pytest.raises(TypeError) as wrong_operation:
        next(iter_cursor(get_markets_region_id_orders.sync, 10000002, client=client))
    assert str(wrong_operation.value) == "GetMarketsRegionIdOrders is not paged by cursor (paging: page)"
    with pytest.raises(ValueError) as both:
        [
            record
            async for record in aiter_cursor(
                get_freelance_jobs_listing.asyncio, client=client, after="0", before="0"
            )
        ]
    assert str(both.value) == "a cursor walk goes one way: pass `after` (forwards) or `before`, not both"
    await client.aclose()
