"""A proxy process from esikit's settings: the client (memory cache, or Redis shared by every
proxy instance), the token store's characters, the API keys, and the ASGI app uvicorn serves.

`esi proxy --workers N` starts N processes; each builds its app with `app_from_environment`
from the settings the command put in the environment."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import frozen

from esi_client import ESIClient
from esi_client.configuration import Settings, load_settings
from esi_proxy.app import Proxy, ProxyApp, build_app
from esi_proxy.keys import KeyRing
from esi_proxy.routes import RouteTable
from esi_proxy.tokens import ProxyTokens

if TYPE_CHECKING:
    from esi_auth import SSOApp

REDIS_ENV = "ESI_PROXY_REDIS"
KEYS_ENV = "ESI_PROXY_KEYS"
HOST_ENV = "ESI_PROXY_HOST"
SESSION_KEY_ENV = "ESI_PROXY_SESSION_KEY"


@frozen
class ProxyOptions:
    host: str = "127.0.0.1"
    redis: str | None = None
    keys_file: Path | None = None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_keys_file() -> Path:
    from platformdirs import user_config_path

    return user_config_path("esikit") / "proxy-keys"


def key_ring(options: ProxyOptions) -> KeyRing | None:
    """The keys a request must show: required off loopback; on it, only when some exist."""
    ring = KeyRing(options.keys_file or default_keys_file())
    if not is_loopback(options.host) and not ring:
        raise PermissionError(
            f"esi proxy on {options.host} (not 127.0.0.1) requires API keys, and {ring.path} has none: "
            "create one with `esi proxy-keys add NAME`"
        )
    return ring if ring else None


def make_proxy(settings: Settings, options: ProxyOptions) -> Proxy:
    sso_app = _sso_app(settings)
    cache: Any = None
    limits = None
    app_name = settings.app_name or "esi-proxy"
    if options.redis:
        from esi_client.cache_stores import RedisCache
        from esi_client.shared_limits import RedisLimits

        cache = RedisCache(options.redis)
        limits = RedisLimits(options.redis, app=settings.client_id or app_name)
    client = ESIClient(
        app_name=app_name,
        contact=settings.contact or "esi-proxy-operator",
        base_url=settings.base_url,
        auth=ProxyTokens(sso_app.auth if sso_app is not None else None),
        cache=cache,
        limits=limits,
    )
    proxy = Proxy(client, RouteTable(_operations()), key_ring(options))
    proxy.sso_app = sso_app
    if sso_app is not None:
        proxy.characters = _characters_of(sso_app)
        sso_app.events.subscribe("token_refreshed", proxy.metrics.token_refreshed)
    return proxy


def _operations() -> list[Any]:
    from esi_client.operations import all_operations

    return all_operations()


def _sso_app(settings: Settings) -> SSOApp | None:
    """esi_auth over the configured store, when an SSO app is configured."""
    if not settings.client_id:
        return None
    from esi_auth import SSOApp, SSOConfig
    from esi_auth.store.configured import store_from_settings

    config = SSOConfig(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        callback_url=settings.callback_url,
        login_url=settings.login_url,
    )
    return SSOApp(config, store_from_settings(settings))


def _characters_of(app: SSOApp) -> Callable[[], list[str]]:
    def characters() -> list[str]:
        return sorted({f"{token.character_name} ({token.character_id})" for token in app.tokens().all()})

    return characters


def asgi_app(proxy: Proxy) -> ProxyApp:
    """The app, its pages with the login when an SSO app is configured. Every worker signs
    login sessions with the one key `esi proxy` put in the environment."""
    from esi_client.operations import all_operations
    from esi_proxy.login import pages_app

    key = os.environ.get(SESSION_KEY_ENV) or secrets.token_urlsafe(32)
    scopes = tuple(sorted({scope for operation in all_operations() for scope in operation.scopes}))
    return build_app(proxy, pages_app(proxy.sso_app, key, proxy.status_page, scopes))


def app_from_environment() -> ProxyApp:
    """For uvicorn's workers: the settings `esi proxy` put in the environment."""
    keys = os.environ.get(KEYS_ENV)
    options = ProxyOptions(
        host=os.environ.get(HOST_ENV, "127.0.0.1"),
        redis=os.environ.get(REDIS_ENV) or None,
        keys_file=Path(keys) if keys else None,
    )
    return asgi_app(make_proxy(load_settings(), options))
