"""The main job: esikit against a local fake ESI, end to end, with no internet.

Starts the fake ESI on 127.0.0.1, then uses the generated client as an app would: a public
call, a cached repeat, every page of a paged market endpoint with a progress bar, and the
runtime's counters.   Run: `nox -s demo` (or `python examples/demo.py` with esikit installed).
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress

from esi_client import ESIClient
from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.status import get_status
from esi_client.paging import all_pages
from esi_fake import FakeESIServer

THE_FORGE = 10000002


def main() -> None:
    console = Console()
    with FakeESIServer(market_pages=20) as fake:
        console.print(f"[bold]Fake ESI[/] listening on {fake.url}")
        with ESIClient(app_name="esikit-demo", contact="demo@example.invalid", base_url=fake.url) as client:
            status = get_status.sync_detailed(client=client)
            console.print(
                f"GetStatus: {status.parsed.players} players, server {status.parsed.server_version}"
            )
            again = get_status.sync_detailed(client=client)
            console.print(f"GetStatus again: from cache = {again.from_cache}")

            with Progress(console=console) as progress:
                task = progress.add_task("Market orders in The Forge", total=None)
                orders = all_pages(
                    get_markets_region_id_orders,
                    THE_FORGE,
                    client=client,
                    on_page=lambda done, total: progress.update(task, completed=done, total=total),
                )
            cheapest = min((o for o in orders if not o.is_buy_order), key=lambda o: o.price)
            console.print(
                f"{len(orders)} orders on {fake.state.market_pages} pages; cheapest sell order "
                f"{cheapest.order_id} at {cheapest.price:,.2f} ISK"
            )
            console.print(f"Runtime counters: {client.stats.snapshot()}")
            console.print(
                f"Server saw {fake.state.stats.requests} requests, 420s: {fake.state.stats.by_status[420]}"
            )


if __name__ == "__main__":
    main()
