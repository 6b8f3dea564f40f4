"""The developer guide's decorators and cleanup, outside Django.

A native app (PKCE) logs a character in on first use, reuses the stored token afterwards, and
the cleanup job refreshes or removes tokens (run it hourly from Celery beat with
esi_auth.tasks.cleanup_token_subset). Runs against a fake ESI + SSO it starts itself.
"""

from __future__ import annotations

import socket
import sys
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet

from esi_auth import SQLTokenStore, SSOApp, SSOConfig, Token, TokenQuery
from esi_auth.cleanup import cleanup_token
from esi_auth.decorators import set_default_app, token_required, tokens_required
from esi_client import ESIClient
from esi_client.api.wallet import get_characters_character_id_wallet
from esi_fake import FakeESIServer

WALLET = "esi-wallet.read_character_wallet.v1"


@token_required(scopes=WALLET)
def show_wallet(token: Token, client: ESIClient) -> None:
    balance = get_characters_character_id_wallet.sync(token.character_id, client=client.with_token(token))
    print(f"{token.character_name}: {balance:,.2f} ISK")


@tokens_required(scopes=WALLET)
def count_wallet_tokens(tokens: TokenQuery) -> int:
    return tokens.count()


def main() -> None:
    with FakeESIServer() as fake, socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        callback = f"http://127.0.0.1:{probe.getsockname()[1]}/callback"
        probe.close()
        fake.sso.apps["example-app"] = None
        app = SSOApp(
            SSOConfig(client_id="example-app", login_url=fake.url, callback_url=callback),
            # secrets encrypted with a key you keep outside the database (here: a fresh one)
            SQLTokenStore(
                f"sqlite:///{Path(tempfile.mkdtemp()) / 'tokens.sqlite'}", secret_key=Fernet.generate_key()
            ),
        )
        # On a desktop, the system browser opens; here a stand-in approves the fake login.
        from esi_fake.browser import main as stand_in_browser

        app.browser_options = {"open_browser": lambda url: stand_in_browser([url]) == 0, "announce": print}
        set_default_app(app)
        with ESIClient(
            app_name="example", contact="me@example.com", base_url=fake.url, auth=app.auth
        ) as client:
            show_wallet(client=client)  # no token yet: logs in
            show_wallet(client=client)  # the stored token is used
        print(f"{count_wallet_tokens()} stored token(s) with {WALLET}")
        print("cleanup:", cleanup_token(app).as_dict())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
