"""Validating EVE SSO access tokens (JWTs) against CCP's JWKS, with joserfc.

Signed by a key CCP's JWKS publishes, chosen by `kid` and checked against that key's own
algorithm: RS256 (RSA) or ES256 (EC on P-256), nothing else. Issuer `login.eveonline.com` or
`https://login.eveonline.com`; audience holding both
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
from esi_client.clock import Clock

_SUBJECT = re.compile(r"CHARACTER:EVE:([0-9]{1,19})", re.ASCII)
# What a token may be signed with, by the published key's type and curve. A key that declares
# another algorithm than its type allows, or sits on another curve, is no key of ours.
_ALGORITHM_OF_KEY: dict[tuple[object, object], str] = {("RSA", None): "RS256", ("EC", "P-256"): "ES256"}
ALGORITHMS = tuple(_ALGORITHM_OF_KEY.values())
# At most one JWKS fetch this often, whether the last one worked or failed: an unknown kid (a new
# CCP key) is looked up again after this long, and a JWKS that is down is not hammered.
REFETCH_AFTER_SECONDS = 10.0


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

    def __init__(
        self,
        jwks_url: str,
        http: httpx2.Client | None = None,
        clock: Clock | None = None,
        *,
        timeout: float = 10.0,
    ) -> None:
        self.jwks_url, self.timeout = jwks_url, timeout
        self._http = http
        # The SSO client's clock (tests move it), else a monotonic one.
        self._now = clock.now if clock is not None else time.monotonic
        self._keys: jwk.KeySet | None = None
        self._attempted_at: float | None = None  # when the last fetch was tried, good or bad
        self._failure = ""  # why the last fetch failed; read only while no key set was ever fetched
        self._lock = threading.Lock()

    def _fetch(self) -> jwk.KeySet:
        http = self._http or httpx2.Client(timeout=self.timeout)
        try:
            response = http.get(self.jwks_url)
            if response.status_code != 200:
                raise TokenValidationError(
                    f"could not fetch the JWKS from {self.jwks_url}: HTTP {response.status_code}"
                )
            data = response.json()
        except (httpx2.HTTPError, ValueError) as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise TokenValidationError(f"could not fetch the JWKS from {self.jwks_url}: {reason}") from None
        finally:
            if self._http is None:
                http.close()
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise TokenValidationError(f"the JWKS at {self.jwks_url} is not a key set")
        keys: list[jwk.Key] = [key for key in map(_signing_key, data["keys"]) if key is not None]
        if not keys:
            raise TokenValidationError(f"the JWKS at {self.jwks_url} holds no usable RS256 or ES256 key")
        return jwk.KeySet(keys)

    def key_set(self, kid: str | None) -> jwk.KeySet:
        with self._lock:
            known = self._keys is not None and any(key.kid == kid for key in self._keys.keys)
            if known:
                assert self._keys is not None
                return self._keys
            now = self._now()
            waited = REFETCH_AFTER_SECONDS if self._attempted_at is None else now - self._attempted_at
            if 0 <= waited < REFETCH_AFTER_SECONDS:  # (a clock set back does not hold it off)
                if self._keys is not None:
                    return self._keys  # the kid is unknown; looked up again after the interval
                left = REFETCH_AFTER_SECONDS - waited
                raise TokenValidationError(
                    f"{self._failure} (tried {waited:.0f} s ago; next try in {left:.0f} s)"
                )
            self._attempted_at = now
            try:
                self._keys = self._fetch()
            except TokenValidationError as exc:
                self._failure = exc.reason
                if self._keys is None:
                    raise
            return self._keys


def _signing_key(published: object) -> jwk.RSAKey | jwk.ECKey | None:
    """A published key this client can check signatures with, or None: a key that does not
    import, or whose declared algorithm its type does not allow, is skipped, as JWKS clients do
    (SkipUnresolvedJsonWebKeys)."""
    if not isinstance(published, dict) or not isinstance(published.get("kid"), str):
        return None
    kty = published.get("kty")
    algorithm = _ALGORITHM_OF_KEY.get((kty, published.get("crv") if kty == "EC" else None))
    if algorithm is None or published.get("alg", algorithm) != algorithm:
        return None
    try:
        key = (jwk.RSAKey if kty == "RSA" else jwk.ECKey).import_key(published)
    except (JoseError, ValueError, TypeError):
        return None
    return None if key.is_private else key


def key_algorithm(key: jwk.RSAKey | jwk.ECKey) -> str:
    return "RS256" if isinstance(key, jwk.RSAKey) else "ES256"


def validate_access_token(
    token: str, config: SSOConfig, jwks: JWKSCache, now: float | None = None
) -> TokenClaims:
    """The claims of a valid access token, or TokenValidationError with the reason."""
    try:
        header = jws.extract_compact(token.encode()).protected
    except (JoseError, ValueError) as exc:
        raise TokenValidationError(f"not a JWS: {type(exc).__name__}") from None
    algorithm, kid = header.get("alg"), header.get("kid")
    if algorithm not in ALGORITHMS:
        raise TokenValidationError(f"algorithm {algorithm!r} is not RS256 or ES256")
    key = next((key for key in jwks.key_set(kid).keys if key.kid == kid), None)
    if not isinstance(key, jwk.RSAKey | jwk.ECKey):
        raise TokenValidationError(f"unknown key id {kid!r}")
    if key_algorithm(key) != algorithm:
        expected = key_algorithm(key)
        raise TokenValidationError(f"algorithm {algorithm!r} does not match key {kid!r} ({expected})")
    try:
        claims: dict[str, Any] = dict(jose_jwt.decode(token, key, algorithms=[algorithm]).claims)
    except JoseError as exc:
        raise TokenValidationError(f"bad signature ({type(exc).__name__})") from None
    return _check_claims(claims, config, time.time() if now is None else now)


def _check_claims(claims: dict[str, Any], config: SSOConfig, now: float) -> TokenClaims:
    if claims.get("iss") not in config.issuers:
        raise TokenValidationError(f"issuer {claims.get('iss')!r} is not EVE SSO")
    _check_audience(claims.get("aud"), config)
    expires = _check_times(claims, config, now)
    subject = claims.get("sub")
    match = _SUBJECT.fullmatch(subject) if isinstance(subject, str) else None
    if match is None:
        raise TokenValidationError(f"subject {subject!r} is not CHARACTER:EVE:<id>")
    scp = claims.get("scp", [])
    scopes = [scp] if isinstance(scp, str) else scp
    if not isinstance(scopes, list) or not all(isinstance(scope, str) for scope in scopes):
        raise TokenValidationError("scopes (scp) are neither a string nor a list of strings")
    for name in ("name", "owner"):
        if not isinstance(claims.get(name, ""), str):
            raise TokenValidationError(f"the {name} claim is not a string")
    return TokenClaims(
        character_id=int(match.group(1)),
        character_name=str(claims.get("name", "")),
        owner_hash=str(claims.get("owner", "")),
        scopes=normalise_scopes(scopes),
        expires_at=expires,
        client_id=config.client_id,
    )


def _check_audience(audience: object, config: SSOConfig) -> None:
    """`aud` names both this application and EVE Online."""
    if isinstance(audience, str):
        audiences = [audience]
    elif isinstance(audience, list) and all(isinstance(item, str) for item in audience):
        audiences = audience
    else:
        raise TokenValidationError("audience is neither a string nor a list of strings")
    if config.client_id not in audiences:
        raise TokenValidationError("audience does not contain this application's client id")
    if AUDIENCE not in audiences:
        raise TokenValidationError(f"audience does not contain {AUDIENCE!r}")


def _check_times(claims: dict[str, Any], config: SSOConfig, now: float) -> float:
    """The expiry: not passed, and neither `nbf` nor `iat` in the future, each within the leeway."""
    expires = claims.get("exp")
    if not isinstance(expires, int | float):
        raise TokenValidationError("no expiry (exp)")
    if expires + config.leeway_seconds < now:
        raise TokenValidationError("expired")
    for name, meaning in (("nbf", "not valid before"), ("iat", "issued in the future")):
        moment = claims.get(name)
        if moment is not None and (
            not isinstance(moment, int | float) or moment - config.leeway_seconds > now
        ):
            raise TokenValidationError(f"{meaning}: {name} is {moment!r}")
    return float(expires)
