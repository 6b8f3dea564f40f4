"""EVE SSO and tokens outside Django, after django-esi's developer guide.

Log in (web apps with a secret; native and CLI apps with PKCE and a loopback redirect), validate
access tokens against CCP's JWKS, keep tokens in a store (SQLite under the user's data directory
by default, any SQL database for servers), query them by character and scopes, and let the
generated client pick, refresh and send them (`ESIClient(auth=app.auth)`).

Names load on first use, so `esi_auth.config` or one submodule does not import the whole stack
(SQLAlchemy, cryptography, keyring): the `esi` CLI starts faster for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from esi_client._lazy import lazy_attributes

if TYPE_CHECKING:
    from esi_auth.app import SSOApp
    from esi_auth.auth import ESIAuth
    from esi_auth.config import DEFAULT_CALLBACK_URL, SSOConfig
    from esi_auth.errors import (
        AuthError,
        InvalidGrantError,
        LoginError,
        NoTokenError,
        SSOError,
        TokenRevokedError,
        TokenValidationError,
    )
    from esi_auth.jwt import JWKSCache, TokenClaims, validate_access_token
    from esi_auth.login import LoginFlow, PendingLogin
    from esi_auth.query import TokenQuery
    from esi_auth.refresh import TokenRefresher
    from esi_auth.scopes import normalise_scopes
    from esi_auth.sso import SSOClient
    from esi_auth.store.configured import default_store
    from esi_auth.store.secrets import InlineSecrets, KeyringSecrets
    from esi_auth.store.sql import SQLTokenStore
    from esi_auth.token import Token

__all__ = [
    "DEFAULT_CALLBACK_URL",
    "AuthError",
    "ESIAuth",
    "InlineSecrets",
    "InvalidGrantError",
    "JWKSCache",
    "KeyringSecrets",
    "LoginError",
    "LoginFlow",
    "NoTokenError",
    "PendingLogin",
    "SQLTokenStore",
    "SSOApp",
    "SSOClient",
    "SSOConfig",
    "SSOError",
    "Token",
    "TokenClaims",
    "TokenQuery",
    "TokenRefresher",
    "TokenRevokedError",
    "TokenValidationError",
    "default_store",
    "normalise_scopes",
    "validate_access_token",
]

_HOME = {
    "AuthError": "esi_auth.errors",
    "DEFAULT_CALLBACK_URL": "esi_auth.config",
    "ESIAuth": "esi_auth.auth",
    "InlineSecrets": "esi_auth.store.secrets",
    "InvalidGrantError": "esi_auth.errors",
    "JWKSCache": "esi_auth.jwt",
    "KeyringSecrets": "esi_auth.store.secrets",
    "LoginError": "esi_auth.errors",
    "LoginFlow": "esi_auth.login",
    "NoTokenError": "esi_auth.errors",
    "PendingLogin": "esi_auth.login",
    "SQLTokenStore": "esi_auth.store.sql",
    "SSOApp": "esi_auth.app",
    "SSOClient": "esi_auth.sso",
    "SSOConfig": "esi_auth.config",
    "SSOError": "esi_auth.errors",
    "Token": "esi_auth.token",
    "TokenClaims": "esi_auth.jwt",
    "TokenQuery": "esi_auth.query",
    "TokenRefresher": "esi_auth.refresh",
    "TokenRevokedError": "esi_auth.errors",
    "TokenValidationError": "esi_auth.errors",
    "default_store": "esi_auth.store.configured",
    "normalise_scopes": "esi_auth.scopes",
    "validate_access_token": "esi_auth.jwt",
}

__getattr__, __dir__ = lazy_attributes(globals(), _HOME)
