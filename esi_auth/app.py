"""SSOApp: one object wiring EVE SSO, the token store, refresh, login and ESIAuth together.

app = SSOApp()                           # the configured app and store, as the `esi` CLI uses them
app = SSOApp(SSOConfig(client_id="..."))                 # native/CLI app: PKCE
token = app.login_with_browser(["esi-wallet.read_character_wallet.v1"])
client = ESIClient(app_name="my-app", contact="me@example.com", auth=app.auth)
get_characters_character_id_wallet.sync(token.character_id, client=client)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from esi_auth.auth import ESIAuth
from esi_auth.config import SSOConfig
from esi_auth.events import Events
from esi_auth.login import LoginFlow, PendingLogin
from esi_auth.query import ANYONE, Anyone, TokenQuery
from esi_auth.refresh import DEFAULT_MARGIN_SECONDS, TokenRefresher
from esi_auth.sso import SSOClient
from esi_auth.store.sql import SQLTokenStore
from esi_auth.token import Token
from esi_client.clock import Clock

if TYPE_CHECKING:
    from esi_client.configuration import Settings


class SSOApp:
    def __init__(
        self,
        config: SSOConfig | None = None,
        store: SQLTokenStore | None = None,
        *,
        clock: Clock | None = None,
        refresh_margin: float = DEFAULT_MARGIN_SECONDS,
    ) -> None:
        """`config` and `store` not given are the configured ones (esi_client.configuration:
        the config file, then `ESI_*` environment): the same the `esi` CLI uses."""
        if config is None or store is None:
            from esi_auth.store.configured import store_from_settings
            from esi_client.configuration import load_settings

            settings = load_settings()
            config = config or _configured_app(settings)
            store = store or store_from_settings(settings)
        self.config = config
        self.store = store
        self.events = Events()
        self.sso = SSOClient(config, clock=clock)
        self.refresher = TokenRefresher(self.store, self.sso, margin=refresh_margin, events=self.events)
        self.login = LoginFlow(self.store, self.sso, events=self.events)
        self.auth = ESIAuth(self.refresher)
        # How login_with_browser reaches the user; the CLI and tests replace these.
        self.browser_options: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"SSOApp({self.config!r}, {self.store!r})"

    def tokens(self, owner: str | Anyone | None = ANYONE) -> TokenQuery:
        """This application's tokens; `owner=` narrows them to one site user's (None: nobody's)."""
        return self.store.query().filter(client_id=self.config.client_id, owner=owner)

    def start_login(self, scopes: str | Iterable[str]) -> PendingLogin:
        """Web apps: redirect the user to `.url`; call finish_login with the callback URL."""
        return self.login.start(scopes)

    def finish_login(self, callback_url: str, *, store_token: bool = True) -> Token:
        return self.login.finish(callback_url, store_token=store_token)

    def login_with_browser(self, scopes: str | Iterable[str], **options: Any) -> Token:
        """CLI and desktop apps: RFC 8252 loopback login (see esi_auth.loopback)."""
        from esi_auth.loopback import login_with_browser

        return login_with_browser(self.login, scopes, **{**self.browser_options, **options})

    def revoke(self, token: Token) -> None:
        """Revoke at EVE SSO and forget the token."""
        current = self.store.get(token.id) if token.id is not None else None
        token = current or token  # the stored one holds the newest (rotated) refresh token
        if token.refresh_token:
            self.sso.revoke(token.refresh_token)
        if token.id is not None:
            self.store.delete(token.id)


def _configured_app(settings: Settings) -> SSOConfig:
    from esi_auth.errors import AuthError

    if not settings.client_id:
        raise AuthError(
            "no SSO client id: pass SSOConfig(client_id=...), or set ESI_CLIENT_ID or client_id in "
            "the config file"
        )
    return SSOConfig(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        callback_url=settings.callback_url,
        login_url=settings.login_url,
    )
