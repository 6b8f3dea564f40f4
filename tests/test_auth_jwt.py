"""Access-token validation: the real thing passes; each forgery or defect is rejected with its reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from joserfc import jwk, jwt

from esi_auth.config import SSOConfig
from esi_auth.errors import TokenValidationError
from esi_auth.jwt import REFETCH_AFTER_SECONDS, JWKSCache, validate_access_token
from esi_client.clock import ManualClock
from esi_fake import SSOState
from esi_fake._sso import Character
from tests.support.auth_support import JWT_CLIENT_ID

CLIENT_ID = JWT_CLIENT_ID  # the app the `sso` and `config` fixtures register


def _claims(sso: SSOState, **changes: Any) -> dict[str, Any]:
    token = sso.issue_access_token(CLIENT_ID, sso.character, ("esi-wallet.read_character_wallet.v1",))
    claims = dict(jwt.decode(token, sso.keys).claims)
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(
    sso: SSOState, claims: dict[str, Any], key: Any = None, header: dict[str, Any] | None = None
) -> str:
    signing_key = key or sso.keys.keys[0]
    return jwt.encode(header or {"alg": "RS256", "kid": signing_key.kid}, claims, signing_key)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_real_token_is_accepted(sso: SSOState, config: SSOConfig) -> None:
    token = sso.issue_access_token(CLIENT_ID, Character(95465499, "Pilot", "hash-x"), ("a.v1", "b.v1"))
    claims = validate_access_token(token, config, JWKSCache(config.jwks_url))
    assert (claims.character_id, claims.character_name, claims.owner_hash) == (95465499, "Pilot", "hash-x")
    assert claims.scopes == ("a.v1", "b.v1")


def test_one_scope_as_a_string(sso: SSOState, config: SSOConfig) -> None:
    token = _sign(sso, _claims(sso, scp="only.v1"))
    assert validate_access_token(token, config, JWKSCache(config.jwks_url)).scopes == ("only.v1",)


def _hmac_forgery(claims: dict[str, Any], public_pem: bytes) -> str:
    """The classic confusion attack: HS256 keyed with the RSA public key (libraries refuse to make it)."""
    signing_input = (
        f"{_b64(json.dumps({'alg': 'HS256', 'kid': 'JWT-Signature-Key'}).encode())}."
        f"{_b64(json.dumps(claims).encode())}"
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _forged(sso: SSOState) -> dict[str, Callable[[], str]]:
    other_key = SSOState.new_key()
    signing_key = sso.keys.keys[0]
    assert isinstance(signing_key, jwk.RSAKey)
    public_pem = signing_key.as_pem(private=False)
    return {
        "bad signature": lambda: _sign(sso, _claims(sso), key=other_key),
        "alg none": lambda: (
            f"{_b64(json.dumps({'alg': 'none', 'kid': 'JWT-Signature-Key'}).encode())}."
            f"{_b64(json.dumps(_claims(sso)).encode())}."
        ),
        "HS256 with the public key": lambda: _hmac_forgery(_claims(sso), public_pem),
        "unknown kid": lambda: _sign(
            sso, _claims(sso), key=other_key, header={"alg": "RS256", "kid": "not-a-known-kid"}
        ),
        "wrong issuer": lambda: _sign(sso, _claims(sso, iss="https://evil.example")),
        "wrong audience": lambda: _sign(sso, _claims(sso, aud=["someone-else", "EVE Online"])),
        "missing EVE Online audience": lambda: _sign(sso, _claims(sso, aud=[CLIENT_ID])),
        "expired": lambda: _sign(sso, _claims(sso, exp=int(time.time()) - 3600)),
        "malformed sub": lambda: _sign(sso, _claims(sso, sub="CORPORATION:EVE:1")),
    }


REASONS = {
    "bad signature": "bad signature (BadSignatureError)",
    "alg none": "algorithm 'none' is not RS256 or ES256",
    "HS256 with the public key": "algorithm 'HS256' is not RS256 or ES256",
    "unknown kid": "unknown key id 'not-a-known-kid'",
    "wrong issuer": "issuer 'https://evil.example' is not EVE SSO",
    "wrong audience": "audience does not contain this application's client id",
    "missing EVE Online audience": "audience does not contain 'EVE Online'",
    "expired": "expired",
    "malformed sub": "subject 'CORPORATION:EVE:1' is not CHARACTER:EVE:<id>",
}


@pytest.mark.parametrize("case", sorted(REASONS))
def test_rejections(case: str, sso: SSOState, config: SSOConfig, esi_clock: ManualClock) -> None:
    token = _forged(sso)[case]()
    with pytest.raises(TokenValidationError) as caught:
        validate_access_token(token, config, JWKSCache(config.jwks_url), now=time.time())
    assert caught.value.reason == REASONS[case]
    assert token not in str(caught.value)


def test_rotated_key_is_fetched_on_unknown_kid(sso: SSOState, config: SSOConfig) -> None:
    clock = ManualClock()
    jwks = JWKSCache(config.jwks_url, clock=clock)
    validate_access_token(sso.issue_access_token(CLIENT_ID, sso.character, ()), config, jwks, now=time.time())
    sso.rotate_keys()
    clock.advance(REFETCH_AFTER_SECONDS)  # the last fetch was long enough ago
    token = sso.issue_access_token(CLIENT_ID, sso.character, ())
    assert (
        validate_access_token(token, config, jwks, now=time.time()).character_id == sso.character.character_id
    )


@pytest.mark.parametrize(
    ("claim", "offset", "accepted"),
    [
        ("exp", -30, True),  # expired 30 s ago: within the documented leeway (clock skew)
        ("exp", -30.5, False),
        ("exp", 0, True),
        ("nbf", 30, True),  # valid 30 s from now by SSO's clock: within the leeway
        ("nbf", 30.5, False),
        ("iat", 30, True),
        ("iat", 30.5, False),
        ("iat", -3600, True),
    ],
)
def test_the_clock_leeway_is_30_seconds_each_way(
    claim: str, offset: float, accepted: bool, sso: SSOState, config: SSOConfig
) -> None:
    """README: expiry and the not-before moments are checked with a 30-s leeway, no more."""
    now = time.time()
    token = _sign(sso, _claims(sso, **{"exp": now + 1200, claim: now + offset}))
    assert config.leeway_seconds == 30
    if accepted:
        assert validate_access_token(token, config, JWKSCache(config.jwks_url), now=now).character_id
        return
    with pytest.raises(TokenValidationError, match="expired" if claim == "exp" else claim):
        validate_access_token(token, config, JWKSCache(config.jwks_url), now=now)
