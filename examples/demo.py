"""The main job: esikit end to end against a local fake ESI + SSO, with no internet.

Starts the fake ESI and SSO on 127.0.0.1, then works as a user would: logs in through the `esi`
CLI (PKCE, loopback redirect; a stand-in browser approves), lists tokens, calls an
authenticated operation through the CLI and from Python with the token chosen transparently,
and walks every page of a public paged operation.   Run: `nox -s demo`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet
from rich.console import Console
from rich.progress import Progress

from esi_auth import SQLTokenStore, SSOApp, SSOConfig
from esi_client import ESIClient
from esi_client.api.market import get_markets_region_id_orders
from esi_client.api.status import get_status
from esi_client.api.wallet import get_characters_character_id_wallet
from esi_fake import FakeESIServer

THE_FORGE = 10000002
CLIENT_ID = "esikit-demo"
WALLET = "esi-wallet.read_character_wallet.v1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    console = Console()
    work = Path(tempfile.mkdtemp(prefix="esikit-demo-"))
    with FakeESIServer(market_pages=20) as fake:
        fake.sso.apps[CLIENT_ID] = None  # a native app: PKCE, no secret
        console.rule(f"Fake ESI + SSO on {fake.url}")
        (work / "config.toml").touch()
        env = {
            **os.environ,
            "ESI_CONFIG": str(work / "config.toml"),
            "ESI_CLIENT_ID": CLIENT_ID,
            "ESI_STORE": f"sqlite:///{work / 'tokens.sqlite'}",
            # the store's secrets are encrypted with this key (kept outside the database)
            "ESI_SECRET_KEY": Fernet.generate_key().decode(),
            "ESI_BASE_URL": fake.url,
            "ESI_LOGIN_URL": fake.url,
            "ESI_CALLBACK_URL": f"http://127.0.0.1:{_free_port()}/callback",
            "ESI_BROWSER": f"{sys.executable} -m esi_fake.browser",
            "COLUMNS": "120",
        }
        esi = [sys.executable, "-m", "esi_cli"]
        for command in (
            ["login", "--scopes", WALLET],
            ["tokens", "list"],
            [
                "call",
                "GetCharactersCharacterIdWallet",
                "--character-id",
                str(fake.sso.character.character_id),
            ],
        ):
            console.print(f"[bold]$ esi {' '.join(command)}[/]")
            subprocess.run([*esi, *command], env=env, check=True)

        store = SQLTokenStore(env["ESI_STORE"], secret_key=env["ESI_SECRET_KEY"])
        app = SSOApp(SSOConfig(client_id=CLIENT_ID, login_url=fake.url), store)
        with ESIClient(
            app_name="esikit-demo", contact="demo@example.invalid", base_url=fake.url, auth=app.auth
        ) as client:
            console.rule("From Python")
            character = fake.sso.character.character_id
            balance = get_characters_character_id_wallet.sync(character, client=client)
            console.print(
                f"Wallet of {fake.sso.character.name}: {balance:,.2f} ISK (token chosen by ESIAuth)"
            )
            status = get_status.sync_detailed(client=client)
            again = get_status.sync_detailed(client=client)
            console.print(
                f"GetStatus: {status.parsed.players} players; asked again, from cache = {again.from_cache}"
            )
            with Progress(console=console) as progress:
                task = progress.add_task("Market orders in The Forge", total=None)
                orders = get_markets_region_id_orders.all_pages(
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
        refreshes = sum(fake.sso.refreshes.values())
        console.print(
            f"Server saw {fake.state.stats.requests} ESI requests and {refreshes} token refreshes; "
            f"420s: {fake.state.stats.by_status[420]}"
        )


if __name__ == "__main__":
    main()
