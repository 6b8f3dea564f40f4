"""Which SSO application esi_auth logs in as, and where EVE SSO is."""

from __future__ import annotations

from attrs import field, frozen

LOGIN_BASE_URL = "https://login.eveonline.com"
DEFAULT_CALLBACK_URL = "http://localhost:8080/callback"
ISSUERS = ("login.eveonline.com", "https://login.eveonline.com")
AUDIENCE = "EVE Online"


@frozen
class SSOConfig:
    """An application registered at developers.eveonline.com.

    Web apps have a `client_secret`; native and CLI apps have none and log in with PKCE. EVE SSO
    matches `callback_url` exactly against the one registered. `login_base_url` points at the fake
    SSO in tests.
    """

    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    callback_url: str = DEFAULT_CALLBACK_URL
    login_base_url: str = LOGIN_BASE_URL
    issuers: tuple[str, ...] = ISSUERS
    leeway_seconds: int = 30

    @property
    def uses_pkce(self) -> bool:
        return self.client_secret is None

    @property
    def authorize_url(self) -> str:
        return f"{self.login_base_url}/v2/oauth/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.login_base_url}/v2/oauth/token"

    @property
    def revoke_url(self) -> str:
        return f"{self.login_base_url}/v2/oauth/revoke"

    @property
    def jwks_url(self) -> str:
        return f"{self.login_base_url}/oauth/jwks"
