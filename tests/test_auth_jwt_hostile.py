"""Access tokens and key sets that are wrong in the ways the first checks missed: each is a
TokenValidationError with its reason, never a raw exception; a failing JWKS is not hammered."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from esi_auth.config import SSOConfig
from esi_auth.errors import TokenValidationError
from esi_auth.jwt import JWKSCache, validate_access_token
from esi_fake import SSOState
from tests.support.hostile_server import HostileServer, RawRequest, answer, hostile_server, silent
from tests.test_auth_jwt import CLIENT_ID, _claims, _sign


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"nbf": int(time.time()) + 3600}, "not valid before"),
        ({"iat": int(time.time()) + 3600}, "issued in the future"),
        ({"aud": {"client": CLIENT_ID, "game": "EVE Online"}}, "audience"),
        ({"sub": "CHARACTER:EVE:١٢٣"}, "subject"),
        ({"scp": 42}, "scopes"),
        ({"scp": ["esi-a.v1", 7]}, "scopes"),
        ({"name": ["not", "a", "name"]}, "name"),
    ],
)
def test_a_defective_claim_is_rejected(
    sso: SSOState, config: SSOConfig, changes: dict[str, Any], reason: str
) -> None:
    token = _sign(sso, _claims(sso, **changes))
    with pytest.raises(TokenValidationError, match=reason):
        validate_access_token(token, config, JWKSCache(config.jwks_url))


@pytest.fixture
def jwks_server() -> Iterator[HostileServer]:
    with hostile_server() as server:
        yield server


@pytest.mark.parametrize(
    "body", [b"[]", b'{"keys": 5}', b'{"keys": [{"kty": "RSA", "kid": "x", "n": 1}]}', b"nonsense"]
)
def test_a_malformed_jwks_is_a_rejection(sso: SSOState, jwks_server: HostileServer, body: bytes) -> None:
    jwks_server.on("/oauth/jwks", lambda _r, conn: answer(conn, 200, body))
    config = SSOConfig(client_id=CLIENT_ID, login_url=jwks_server.url)
    token = _sign(sso, _claims(sso))
    with pytest.raises(TokenValidationError):
        validate_access_token(token, config, JWKSCache(config.jwks_url))


def test_a_failing_jwks_is_not_fetched_for_every_token(sso: SSOState, jwks_server: HostileServer) -> None:
    def down(_request: RawRequest, conn: socket.socket) -> None:
        answer(conn, 503, {"error": "down"})

    jwks_server.on("/oauth/jwks", down)
    config = SSOConfig(client_id=CLIENT_ID, login_url=jwks_server.url)
    keys = JWKSCache(config.jwks_url)
    for _ in range(50):
        with pytest.raises(TokenValidationError):
            validate_access_token(_sign(sso, _claims(sso)), config, keys)
    assert jwks_server.count("/oauth/jwks") <= 2


NOW = int(time.time())


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": 7}, "audience is neither a string nor a list of strings"),
        ({"exp": None}, "no expiry (exp)"),
        ({"exp": "tomorrow"}, "no expiry (exp)"),
        ({"nbf": NOW + 3600}, f"not valid before: nbf is {NOW + 3600}"),
        ({"iat": NOW + 3600}, f"issued in the future: iat is {NOW + 3600}"),
        ({"iat": "now"}, "issued in the future: iat is 'now'"),
        ({"scp": {"esi-a.v1": True}}, "scopes (scp) are neither a string nor a list of strings"),
        ({"name": 5}, "the name claim is not a string"),
        ({"owner": ["hash"]}, "the owner claim is not a string"),
    ],
)
def test_a_defective_claim_is_rejected_in_words(
    sso: SSOState, config: SSOConfig, changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(TokenValidationError) as caught:
        validate_access_token(_sign(sso, _claims(sso, **changes)), config, JWKSCache(config.jwks_url))
    assert caught.value.reason == reason and str(caught.value) == f"access token rejected: {reason}"


def test_a_token_without_name_or_owner_claims_has_them_empty(sso: SSOState, config: SSOConfig) -> None:
    claims = validate_access_token(
        _sign(sso, _claims(sso, name=None, owner=None)), config, JWKSCache(config.jwks_url)
    )
    assert (claims.character_name, claims.owner_hash) == ("", "")


def test_a_stray_member_of_a_published_key_is_ignored(
    sso: SSOState, jwks_server: HostileServer, config: SSOConfig
) -> None:
    """RFC 7517: members a key type does not define are ignored (an RSA key with a `crv`)."""
    published = sso.published_keys().as_dict()
    for key in published["keys"]:
        if key["kty"] == "RSA":
            key["crv"] = "P-256"
    jwks_server.on("/oauth/jwks", lambda _r, conn: answer(conn, 200, published))
    served = SSOConfig(client_id=CLIENT_ID, login_url=jwks_server.url)
    claims = validate_access_token(_sign(sso, _claims(sso)), served, JWKSCache(served.jwks_url))
    assert claims.character_id == sso.character.character_id


def test_a_jwks_that_cannot_be_read_is_told_and_tried_again_after_the_interval(
    sso: SSOState, jwks_server: HostileServer
) -> None:
    from esi_auth.jwt import REFETCH_AFTER_SECONDS
    from esi_client.clock import ManualClock

    jwks_server.on("/oauth/jwks", lambda _r, conn: answer(conn, 200, b"<html>maintenance</html>"))
    config = SSOConfig(client_id=CLIENT_ID, login_url=jwks_server.url)
    clock = ManualClock()
    keys = JWKSCache(config.jwks_url, clock=clock)
    token = _sign(sso, _claims(sso))
    started = clock.now()
    with pytest.raises(TokenValidationError) as first:
        validate_access_token(token, config, keys)
    said = first.value.reason
    assert said.startswith(
        f"could not fetch the JWKS from {config.jwks_url}: JSONDecodeError: Expecting value"
    )
    for ago in (0, 4):  # the same instant, then 4 s on: not fetched again
        clock.advance(ago - (clock.now() - started))
        with pytest.raises(TokenValidationError) as held:
            validate_access_token(token, config, keys)
        left = REFETCH_AFTER_SECONDS - ago
        assert held.value.reason == f"{said} (tried {ago} s ago; next try in {left:.0f} s)"
    assert jwks_server.count("/oauth/jwks") == 1
    clock.advance(REFETCH_AFTER_SECONDS - 4.0)
    with pytest.raises(TokenValidationError):
        validate_access_token(token, config, keys)
    assert jwks_server.count("/oauth/jwks") == 2


def test_a_jwks_fetch_that_gets_no_answer_ends_at_its_timeout(
    sso: SSOState, jwks_server: HostileServer
) -> None:
    jwks_server.on("/oauth/jwks", silent(30))
    config = SSOConfig(client_id=CLIENT_ID, login_url=jwks_server.url)
    with pytest.raises(TokenValidationError) as caught:
        validate_access_token(_sign(sso, _claims(sso)), config, JWKSCache(config.jwks_url, timeout=0.5))
    assert caught.value.reason == f"could not fetch the JWKS from {config.jwks_url}: ReadTimeout: timed out"


def test_a_known_key_is_not_fetched_again_and_a_non_jws_says_so(
    sso: SSOState, jwks_server: HostileServer
) -> None:
    from esi_client.clock import ManualClock

    published = sso.published_keys().as_dict()
    jwks_server.on("/oauth/jwks", lambda _r, conn: answer(conn, 200, published))
    config = SSOConfig(client_id=CLIENT_ID, login_url=jwks_server.url)
    clock = ManualClock()
    keys = JWKSCache(config.jwks_url, clock=clock)
    for _ in range(3):
        assert validate_access_token(_sign(sso, _claims(sso)), config, keys).character_id
        clock.advance(3600)  # long past the refetch interval: the kid is known, nothing to fetch
    assert jwks_server.count("/oauth/jwks") == 1
    with pytest.raises(TokenValidationError) as caught:
        validate_access_token("not.a-token", config, keys)
    assert caught.value.reason == "not a JWS: DecodeError"


def test_a_published_private_key_is_not_trusted(sso: SSOState, jwks_server: HostileServer) -> None:
    """A JWKS that publishes a private key has leaked it (anyone could sign with it): skipped."""
    leaked = {"keys": [key.as_dict(private=True) for key in sso.keys.keys]}
    assert all("d" in key for key in leaked["keys"])
    jwks_server.on("/oauth/jwks", lambda _r, conn: answer(conn, 200, leaked))
    config = SSOConfig(client_id=CLIENT_ID, login_url=jwks_server.url)
    with pytest.raises(TokenValidationError) as caught:
        validate_access_token(_sign(sso, _claims(sso)), config, JWKSCache(config.jwks_url))
    assert caught.value.reason == f"the JWKS at {config.jwks_url} holds no usable RS256 or ES256 key"


def test_a_jwks_fetch_failing_without_words_is_named_by_its_kind(sso: SSOState, config: SSOConfig) -> None:
    """The app's own HTTP client may fail with an exception that says nothing: its kind is told."""

    def wordless(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("", request=request)

    with (
        httpx2.Client(transport=httpx2.MockTransport(wordless)) as http,
        pytest.raises(TokenValidationError) as caught,
    ):
        validate_access_token(_sign(sso, _claims(sso)), config, JWKSCache(config.jwks_url, http=http))
    assert caught.value.reason == f"could not fetch the JWKS from {config.jwks_url}: ReadTimeout"
