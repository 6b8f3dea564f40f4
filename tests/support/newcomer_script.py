"""A user's script, as a newcomer writes one from the README: type-checked with `mypy --strict`
against the installed wheel alone, then run against the fake (the environment points at it)."""

from __future__ import annotations

import asyncio

from esi_auth import SSOApp, Token
from esi_client import ESIClient, NotFoundError, Response
from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.status import get_status
from esi_client.api.wallet import get_characters_character_id_wallet
from esi_client.models import MarketsRegionIdOrdersGetItem, StatusGet


def cheapest_sell(client: ESIClient, region_id: int, type_id: int) -> float | None:
    orders: list[MarketsRegionIdOrdersGetItem] = get_markets_region_id_orders.all_pages(
        region_id, client=client, type_id=type_id
    )
    prices = [order.price for order in orders if not order.is_buy_order]
    return min(prices) if prices else None


async def players(client: ESIClient) -> int:
    detailed: Response[StatusGet] = await get_status.asyncio_detailed(client=client)
    status: StatusGet = await get_status.asyncio(client=client)
    return status.players if detailed.status_code == 200 and detailed.parsed == status else 0


def main() -> None:
    app = SSOApp()
    token: Token | None = app.tokens().first()
    with ESIClient(app_name="newcomer", contact="newcomer@example.com", auth=app.auth) as client:
        print("cheapest tritanium:", cheapest_sell(client, 10000002, 34))
        print("players:", asyncio.run(players(client)))
        if token is not None:
            balance: float = get_characters_character_id_wallet.sync(token.character_id, client=client)
            print(f"{token.character_name}: {balance:.2f} ISK")
        try:
            get_markets_region_id_orders.sync(10000002, client=client, page=9999)
        except NotFoundError as missing:
            print("as expected:", missing.status)


if __name__ == "__main__":
    main()
