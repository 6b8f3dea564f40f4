"""An esi_auth setup against the fake SSO: store, SSO client, refresher, login flow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import keyring.backend
import keyring.errors

from esi_auth.auth import ESIAuth
from esi_auth.config import SSOConfig
from esi_auth.events import Events
from esi_auth.login import LoginFlow
from esi_auth.refresh import TokenRefresher
from esi_auth.sso import SSOClient
from esi_auth.store.sql import SQLTokenStore
from esi_auth.token import Token
from tests.support.fixtures import FakeESIServer

WALLET_SCOPE = "esi-wallet.read_character_wallet.v1"
CORP_WALLET_SCOPE = "esi-wallet.read_corporation_wallets.v1"
JWT_CLIENT_ID = "esikit-test-app"  # the app of the `sso` and `config` fixtures (conftest)


@dataclass
class AuthSetup:
    fake: FakeESIServer
    store: SQLTokenStore
    sso: SSOClient
    refresher: TokenRefresher
    login: LoginFlow
    events: Events
    auth: ESIAuth

    def log_in(self, scopes: str | list[str] = WALLET_SCOPE) -> Token:
        pending = self.login.start(scopes)
        answer = httpx2.get(pending.url, follow_redirects=False)
        assert answer.status_code == 302, answer.text
        return self.login.finish(answer.headers["location"])


def make_setup(
    fake: FakeESIServer,
    clock: Any,
    tmp_path: Path,
    *,
    secret: str | None = None,
    url: str | None = None,
    **store_options: Any,
) -> AuthSetup:
    client_id = f"app-{len(fake.sso.apps)}"
    fake.sso.apps[client_id] = secret
    config = SSOConfig(client_id=client_id, client_secret=secret, login_url=fake.url)
    if "secrets" not in store_options and "secret_key" not in store_options:
        store_options["secrets"] = "plaintext"
    store = SQLTokenStore(url or f"sqlite:///{tmp_path / 'tokens.sqlite'}", **store_options)
    sso = SSOClient(config, clock=clock)
    events = Events()
    refresher = TokenRefresher(store, sso, events=events, spill_dir=tmp_path / "spill")
    return AuthSetup(
        fake, store, sso, refresher, LoginFlow(store, sso, events=events), events, ESIAuth(refresher)
    )


def keeps_the_newest(mode: str, before: str | None, after: str | None) -> bool:
    """The refresh token held after a refresh is the one SSO handed out last: a new one when it
    rotates, the same one when it does not."""
    return after == before if mode == "none" else after not in (None, before)


def refresh_at(base_url: str, client_id: str, refresh_token: str) -> httpx2.Response:
    """A native (PKCE) app's refresh-token grant at the fake SSO, sent by hand."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return httpx2.post(f"{base_url}/v2/oauth/token", data=form)


class FileKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend keeping its entries in a JSON file, of the priority a desktop's
    keyring has. Names are kept as given (the keyrings.alt file backend lower-cases them; the
    platforms' keyrings do not), so a secret left behind under any name is seen."""

    priority = 5

    def __init__(self, path: Path) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.path = path

    @property
    def entries(self) -> dict[tuple[str, str], str]:
        found: list[list[str]] = json.loads(self.path.read_text()) if self.path.exists() else []
        return {(service, username): password for service, username, password in found}

    def _write(self, entries: dict[tuple[str, str], str]) -> None:
        self.path.write_text(json.dumps([[*name, password] for name, password in entries.items()]))

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._write({**self.entries, (service, username): password})

    def delete_password(self, service: str, username: str) -> None:
        entries = self.entries
        if entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)
        self._write(entries)
