"""Public ESI calls from asyncio: several at once, one client, typed results.

Runs against a fake ESI it starts itself; point `base_url` at ESI (the default) for real use.
"""

from __future__ import annotations

import asyncio

from esi_client import ESIClient, NotFoundError
from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.status import get_status
from esi_client.api.universe import get_universe_types_type_id
from esi_fake import FakeESIServer


async def main(base_url: str) -> None:
    async with ESIClient(app_name="async-example", contact="me@example.com", base_url=base_url) as client:
        status = await get_status.asyncio(client=client)
        types = await asyncio.gather(
            *(get_universe_types_type_id.asyncio(type_id, client=client) for type_id in (34, 35, 36))
        )
        print(f"{status.players} players online")
        for item in types:
            print(f"type {item.type_id}: {item.name}")
        try:
            await get_markets_region_id_orders.asyncio(10000002, client=client, page=999)
        except NotFoundError as exc:  # typed errors name the operation, status and ESI's text
            print(exc)
        print(client.stats.snapshot())


if __name__ == "__main__":
    with FakeESIServer() as fake:
        asyncio.run(main(fake.url))
