"""Validating EVE SSO access tokens (JWTs) against CCP's JWKS, with joserfc.

RS256 only; issuer `login.eveonline.com` or `https://login.eveonline.com`; audience holding both
the client id and "EVE Online"; unexpired (small leeway); `sub` of the form
`CHARACTER:EVE:<id>`. The key set is cached and fetched again when a token names an unknown kid.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import httpx2
from attrs import frozen
from joserfc import jwk, jws
from joserfc import jwt as jose_jwt
from joserfc.errors import JoseError

from esi_auth.config import AUDIENCE, SSOConfig
from esi_auth.errors import TokenValidationError
from esi_auth.scopes import normalise_scopes

_SUBJECT = re.compile(r"CHARACTER:EVE:(\d+)")
REFETCH_AFTER_SECONDS = 60.0  # at most one JWKS fetch a minute for unknown kids


@frozen
class TokenClaims:
    character_id: int
    character_name: str
    owner_hash: str
    scopes: tuple[str, ...]
    expires_at: float
    client_id: str


class JWKSCache:
    """CCP's signing keys, fetched once and again when an unknown kid appears."""

    def __init__(self, jwks_url: str, http: httpx2.Client | None = None) -> None:
        self.jwks_url = jwks_url
        self._http = http
        self._keys: jwk.KeySet | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def _fetch(self) -> jwk.KeySet:
        http = self._http or httpx2.Client(timeout=10)
        try:
            response = http.get(self.jwks_url)
            response.raise_for_status()
            data = response.json()
        except (httpx2.HTTPError, ValueError) as exc:
            raise TokenValidationError(f"could not fetch the JWKS from {self.jwks_url}: {exc}") from None
        finally:
            if self._http is None:
                http.close()
        # Only RSA signing keys matter here (CCP also publishes an ES256 key).
        keys = [key for key in data.get("keys", []) if key.get("kty") == "RSA"]
        return jwk.KeySet.import_key_set({"keys": keys})

    def key_set(self, kid: str | None) -> jwk.KeySet:
        with self._lock:
            known = self._keys is not None and any(key.kid == kid for key in self._keys.keys)
            stale = time.monotonic() - self._fetched_at > REFETCH_AFTER_SECONDS
            if self._keys is None or (not known and stale):
                self._keys = self._fetch()
                self._fetched_at = time.monotonic()
            return self._keys


def validate_access_token(
    token: str, config: SSOConfig, jwks: JWKSCache, now: float | None = None
) -> TokenClaims:
    """The claims of a valid access token, or TokenValidationError with the reason."""
    try:
        header = jws.extract_compact(token.encode()).protected
    except (JoseError, ValueError) as exc:
        raise TokenValidationError(f"not a JWS: {type(exc).__name__}") from None
    algorithm = header.get("alg")
    if algorithm != "RS256":
        raise TokenValidationError(f"algorithm {algorithm!r} is not RS256")
    keys = jwks.key_set(header.get("kid"))
    if not any(key.kid == header.get("kid") for key in keys.keys):
        raise TokenValidationError(f"unknown key id {header.get('kid')!r}")
    try:
        claims: dict[str, Any] = dict(jose_jwt.decode(token, keys, algorithms=["RS256"]).claims)
    except JoseError as exc:
        raise TokenValidationError(f"bad signature ({type(exc).__name__})") from None
    return _check_claims(claims, config, time.time() if now is None else now)


def _check_claims(claims: dict[str, Any], config: SSOConfig, now: float) -> TokenClaims:
    if claims.get("iss") not in config.issuers:
        raise TokenValidationError(f"issuer {claims.get('iss')!r} is not EVE SSO")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else list(audience or [])
    if config.client_id not in audiences:
        raise TokenValidationError("audience does not contain this application's client id")
    if AUDIENCE not in audiences:
        raise TokenValidationError(f"audience does not contain {AUDIENCE!r}")
    expires = claims.get("exp")
    if not isinstance(expires, int | float):
        raise TokenValidationError("no expiry (exp)")
    if expires + config.leeway_seconds < now:
        raise TokenValidationError("expired")
    match = _SUBJECT.fullmatch(str(claims.get("sub", "")))
    if match is None:
        raise TokenValidationError(f"subject {claims.get('sub')!r} is not CHARACTER:EVE:<id>")
    scp = claims.get("scp")
    return TokenClaims(
        character_id=int(match.group(1)),
        character_name=str(claims.get("name", "")),
        owner_hash=str(claims.get("owner", "")),
        scopes=normalise_scopes([scp] if isinstance(scp, str) else scp or []),
        expires_at=float(expires),
        client_id=config.client_id,
    )
