"""Which SSO application esi_auth logs in as, and where EVE SSO is."""

from __future__ import annotations

from attrs import field, frozen

from esi_client.configuration import DEFAULT_CALLBACK_URL, LOGIN_URL, configured

__all__ = ["AUDIENCE", "DEFAULT_CALLBACK_URL", "ISSUERS", "LOGIN_URL", "SSOConfig"]


def _without_trailing_slash(url: str) -> str:
    return url.rstrip("/")


def _configured_login_url() -> str:
    return configured("login_url", LOGIN_URL)


def _configured_callback_url() -> str:
    return configured("callback_url", DEFAULT_CALLBACK_URL)


ISSUERS = ("login.eveonline.com", "https://login.eveonline.com")
AUDIENCE = "EVE Online"


@frozen
class SSOConfig:
    """An application registered at developers.eveonline.com.

    Web apps have a `client_secret`; native and CLI apps have none and log in with PKCE. EVE SSO
    matches `callback_url` exactly against the one registered. `login_url` is EVE SSO's address
    (the fake's in tests); like `callback_url` it defaults to the configured one (`ESI_LOGIN_URL`,
    `ESI_CALLBACK_URL` or the config file; esi_client.configuration), then to EVE SSO's own.
    """

    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    callback_url: str = field(factory=_configured_callback_url)
    login_url: str = field(factory=_configured_login_url, converter=_without_trailing_slash)
    issuers: tuple[str, ...] = ISSUERS
    leeway_seconds: int = 30

    @property
    def uses_pkce(self) -> bool:
        return self.client_secret is None

    @property
    def authorize_url(self) -> str:
        return f"{self.login_url}/v2/oauth/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.login_url}/v2/oauth/token"

    @property
    def revoke_url(self) -> str:
        return f"{self.login_url}/v2/oauth/revoke"

    @property
    def jwks_url(self) -> str:
        return f"{self.login_url}/oauth/jwks"
