"""CCP's JWKS publishes an ES256 (P-256) key beside the RS256 one: a token signed by either is
accepted, the key chosen by `kid` and checked against that key's own algorithm; nothing else is."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx2
import pytest
from joserfc import jwk, jwt

from esi_auth.config import SSOConfig
from esi_auth.errors import TokenValidationError
from esi_auth.jwt import JWKSCache, validate_access_token
from esi_fake import SSOState
from tests.support.fixtures import FakeESIServer
from tests.support.hostile_server import answer, hostile_server
from tests.test_auth_jwt import CLIENT_ID, _claims

EC_KID = "JWT-Signature-Key-ES256"


def _ec_key(sso: SSOState) -> jwk.ECKey:
    (key,) = [k for k in sso.other_keys if k.kid == EC_KID]
    assert isinstance(key, jwk.ECKey)
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_the_fake_signs_with_es256_when_asked_and_the_token_is_accepted(
    sso: SSOState, config: SSOConfig
) -> None:
    sso.signing_algorithm = "ES256"
    token = sso.issue_access_token(CLIENT_ID, sso.character, ("esi-skills.read_skills.v1",))
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert (header["alg"], header["kid"]) == ("ES256", EC_KID)
    claims = validate_access_token(token, config, JWKSCache(config.jwks_url))
    assert claims.character_id == sso.character.character_id
    assert claims.scopes == ("esi-skills.read_skills.v1",)


def test_both_algorithms_validate_against_one_key_set(sso: SSOState, config: SSOConfig) -> None:
    jwks = JWKSCache(config.jwks_url)
    rs = sso.issue_access_token(CLIENT_ID, sso.character, ())
    sso.signing_algorithm = "ES256"
    es = sso.issue_access_token(CLIENT_ID, sso.character, ())
    assert {validate_access_token(t, config, jwks).character_id for t in (rs, es)} == {
        sso.character.character_id
    }


def _confused(claims: dict[str, Any], kid: str, secret: bytes) -> str:
    header = _b64(json.dumps({"alg": "HS256", "kid": kid}).encode())
    signing_input = f"{header}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def _any_use(key: Any) -> Any:
    """The same private key, without the algorithm it was made for (so a forger may misuse it)."""
    return jwk.RSAKey.import_key({k: v for k, v in key.as_dict(private=True).items() if k != "alg"})


def _forgeries(sso: SSOState) -> dict[str, tuple[str, str]]:
    ec, rsa = _ec_key(sso), sso.keys.keys[0]
    claims = _claims(sso)
    stranger = jwk.ECKey.generate_key("P-256", parameters={"kid": EC_KID, "alg": "ES256"}, private=True)
    p384 = jwk.ECKey.generate_key("P-384", parameters={"kid": EC_KID}, private=True)
    return {
        # the EC key's kid, but an RSA signature claiming RS256
        "RS256 under the EC kid": (
            jwt.encode({"alg": "RS256", "kid": EC_KID}, claims, rsa),
            "algorithm 'RS256' does not match key 'JWT-Signature-Key-ES256' (ES256)",
        ),
        # the RSA key's kid, but an EC signature claiming ES256
        "ES256 under the RSA kid": (
            jwt.encode({"alg": "ES256", "kid": rsa.kid}, claims, ec),
            f"algorithm 'ES256' does not match key {rsa.kid!r} (RS256)",
        ),
        "ES256 by a key CCP never published": (
            jwt.encode({"alg": "ES256", "kid": EC_KID}, claims, stranger),
            "bad signature (BadSignatureError)",
        ),
        "ES384 on a P-384 key": (
            jwt.encode({"alg": "ES384", "kid": EC_KID}, claims, p384, algorithms=["ES384"]),
            "algorithm 'ES384' is not RS256 or ES256",
        ),
        "HS256 keyed with the EC public key": (
            _confused(claims, EC_KID, json.dumps(ec.as_dict(private=False)).encode()),
            "algorithm 'HS256' is not RS256 or ES256",
        ),
        "PS256 with the RSA key": (
            jwt.encode({"alg": "PS256", "kid": rsa.kid}, claims, _any_use(rsa), algorithms=["PS256"]),
            "algorithm 'PS256' is not RS256 or ES256",
        ),
    }


CASES = [
    "RS256 under the EC kid",
    "ES256 under the RSA kid",
    "ES256 by a key CCP never published",
    "ES384 on a P-384 key",
    "HS256 keyed with the EC public key",
    "PS256 with the RSA key",
]


@pytest.mark.parametrize("case", CASES)
def test_a_token_is_checked_against_its_key_s_own_algorithm(
    case: str, sso: SSOState, config: SSOConfig
) -> None:
    token, reason = _forgeries(sso)[case]
    with pytest.raises(TokenValidationError) as caught:
        validate_access_token(token, config, JWKSCache(config.jwks_url), now=time.time())
    assert caught.value.reason == reason


def _validate_with(keys: list[dict[str, Any]], token: str, config: SSOConfig) -> Any:
    with hostile_server() as server:
        server.on("/oauth/jwks", lambda _request, conn: answer(conn, 200, {"keys": keys}))
        with httpx2.Client(timeout=5) as http:
            jwks = JWKSCache(f"{server.url}/oauth/jwks", http=http)
            return validate_access_token(token, config, jwks, now=time.time())


def test_a_key_set_with_only_the_ec_key_is_usable(sso: SSOState, config: SSOConfig) -> None:
    sso.signing_algorithm = "ES256"
    token = sso.issue_access_token(CLIENT_ID, sso.character, ())
    only_ec = [_ec_key(sso).as_dict(private=False)]
    assert _validate_with(only_ec, token, config).character_id == sso.character.character_id


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        # a published key whose declared alg contradicts its type is not a key at all
        (lambda key: {**key, "alg": "RS256"}, "unknown key id 'JWT-Signature-Key-ES256'"),
        # an EC key on another curve is not CCP's P-256 key
        (lambda key: {**key, "crv": "P-384"}, "unknown key id 'JWT-Signature-Key-ES256'"),
        # no alg published: the algorithm follows from the key's type and curve
        (lambda key: {k: v for k, v in key.items() if k != "alg"}, None),
    ],
    ids=["alg contradicts the key type", "another curve", "no alg published"],
)
def test_what_a_published_ec_key_says_is_checked(
    sso: SSOState, config: SSOConfig, mangle: Any, reason: str | None
) -> None:
    sso.signing_algorithm = "ES256"
    token = sso.issue_access_token(CLIENT_ID, sso.character, ())
    keys = [sso.keys.keys[0].as_dict(private=False), mangle(_ec_key(sso).as_dict(private=False))]
    if reason is None:
        assert _validate_with(keys, token, config).character_id == sso.character.character_id
        return
    with pytest.raises(TokenValidationError) as caught:
        _validate_with(keys, token, config)
    assert caught.value.reason == reason


def test_the_fake_esi_accepts_an_es256_bearer(sso: SSOState, fake_esi: FakeESIServer) -> None:
    sso.signing_algorithm = "ES256"
    character = sso.character.character_id
    token = sso.issue_access_token(CLIENT_ID, sso.character, ("esi-skills.read_skills.v1",))
    response = httpx2.get(
        f"{fake_esi.url}/characters/{character}/skills",
        headers={"Authorization": f"Bearer {token}", "X-Compatibility-Date": "2026-08-04"},
    )
    assert response.status_code == 200, response.text
    assert "total_sp" in response.json()
