"""The fake SSO is as strict as EVE SSO about codes and redirect URIs, so clients' mistakes show."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2

from esi_auth.pkce import challenge_for
from tests.support.fixtures import FakeESIServer, ManualClock


def _authorize(fake: FakeESIServer, redirect_uri: str) -> httpx2.Response:
    query = {
        "response_type": "code",
        "client_id": "strict-app",
        "redirect_uri": redirect_uri,
        "scope": "esi-wallet.read_character_wallet.v1",
        "state": "s1",
        "code_challenge": challenge_for("v" * 43),
        "code_challenge_method": "S256",
    }
    return httpx2.get(f"{fake.url}/v2/oauth/authorize?{urlencode(query)}", follow_redirects=False)


def _exchange(fake: FakeESIServer, code: str, **extra: str) -> httpx2.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "strict-app",
        "code_verifier": "v" * 43,
    }
    return httpx2.post(f"{fake.url}/v2/oauth/token", data={**form, **extra})


def test_redirect_uri_must_match_the_registered_callback(fake_esi: FakeESIServer) -> None:
    fake_esi.sso.apps["strict-app"] = None
    fake_esi.sso.callbacks["strict-app"] = "http://localhost:8080/callback"
    stolen = _authorize(fake_esi, "https://attacker.example/steal")
    assert stolen.status_code == 400 and "location" not in stolen.headers
    good = _authorize(fake_esi, "http://localhost:8080/callback")
    code = parse_qs(urlsplit(good.headers["location"]).query)["code"][0]
    other = _exchange(fake_esi, code, redirect_uri="http://localhost:9999/other")
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"


def test_codes_expire_and_are_single_use(fake_esi: FakeESIServer, esi_clock: ManualClock) -> None:
    fake_esi.sso.apps["strict-app"] = None
    location = _authorize(fake_esi, "http://localhost:8080/callback").headers["location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    assert _exchange(fake_esi, code).status_code == 200
    assert _exchange(fake_esi, code).json()["error"] == "invalid_grant"
    later = _authorize(fake_esi, "http://localhost:8080/callback").headers["location"]
    esi_clock.advance(301)
    expired = _exchange(fake_esi, parse_qs(urlsplit(later).query)["code"][0])
    assert expired.status_code == 400 and "expired" in expired.json()["error_description"]


def _authorize_with(fake: FakeESIServer, **changes: str) -> httpx2.Response:
    query = {
        "response_type": "code",
        "client_id": "strict-app",
        "redirect_uri": "http://localhost:8080/callback",
        "scope": "esi-wallet.read_character_wallet.v1",
        "state": "s1",
        "code_challenge": challenge_for("v" * 43),
        "code_challenge_method": "S256",
        **changes,
    }
    query = {key: value for key, value in query.items() if value != ""}
    return httpx2.get(f"{fake.url}/v2/oauth/authorize?{urlencode(query)}", follow_redirects=False)


def test_unknown_scopes_plain_pkce_and_absent_state(fake_esi: FakeESIServer) -> None:
    fake_esi.sso.apps["strict-app"] = None
    unknown = _authorize_with(fake_esi, scope="esi-wallet.read_character_wallet.v1 esi-made-up.v1")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_scope"
    plain = _authorize_with(fake_esi, code_challenge="v" * 43, code_challenge_method="plain")
    assert plain.status_code == 400
    stateless = _authorize_with(fake_esi, state="")
    assert "state=" not in stateless.headers["location"]


def test_tokens_and_keys_look_like_ccps(fake_esi: FakeESIServer) -> None:
    import uuid

    from joserfc import jwt

    fake_esi.sso.apps["strict-app"] = None
    location = _authorize_with(fake_esi).headers["location"]
    answer = _exchange(fake_esi, parse_qs(urlsplit(location).query)["code"][0])
    assert answer.headers["cache-control"] == "no-store"
    claims = jwt.decode(answer.json()["access_token"], fake_esi.sso.keys).claims
    assert claims["kid"] == fake_esi.sso.keys.keys[0].kid and uuid.UUID(claims["jti"])
    published = httpx2.get(f"{fake_esi.url}/oauth/jwks")
    keys = published.json()
    assert {key["alg"] for key in keys["keys"]} == {"RS256", "ES256"} and keys["SkipUnresolvedJsonWebKeys"]
    assert "max-age" in published.headers["cache-control"]


def test_a_key_rotation_keeps_outstanding_tokens_working(fake_esi: FakeESIServer) -> None:
    fake_esi.sso.apps["strict-app"] = None
    location = _authorize_with(fake_esi).headers["location"]
    token = _exchange(fake_esi, parse_qs(urlsplit(location).query)["code"][0]).json()["access_token"]
    wallet = f"{fake_esi.url}/characters/{fake_esi.sso.character.character_id}/wallet"
    fake_esi.sso.rotate_keys()
    assert httpx2.get(wallet, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    fake_esi.sso.retire_old_keys()
    assert httpx2.get(wallet, headers={"Authorization": f"Bearer {token}"}).status_code == 401


def _refresh(fake: FakeESIServer, token: str) -> httpx2.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token, "client_id": "strict-app"}
    return httpx2.post(f"{fake.url}/v2/oauth/token", data=form)


def _first_grant(fake: FakeESIServer, mode: str, family: str = "f") -> str:
    assert httpx2.post(f"{fake.url}/_fake/sso", json={"refresh_rotation": mode}).status_code == 200
    fake.sso.apps["strict-app"] = None
    grant = fake.sso.grant("strict-app", fake.sso.character, ("esi-wallet.read_character_wallet.v1",), family)
    return str(grant["refresh_token"])


def test_no_rotation_answers_the_same_refresh_token_for_ever(fake_esi: FakeESIServer) -> None:
    first = _first_grant(fake_esi, "none")
    answers = [_refresh(fake_esi, first) for _ in range(3)]
    assert [a.json()["refresh_token"] for a in answers] == [first] * 3
    assert len({a.json()["access_token"] for a in answers}) == 3 and fake_esi.sso.revoked == 0


def test_take_back_forgives_an_unheard_answer_and_strict_does_not(fake_esi: FakeESIServer) -> None:
    first = _first_grant(fake_esi, "take-back")
    _refresh(fake_esi, first)  # rotated; suppose the answer was lost
    again = _refresh(fake_esi, first)
    assert again.status_code == 200 and fake_esi.sso.replays == 1
    strict = _first_grant(fake_esi, "strict", family="g")
    successor = _refresh(fake_esi, strict).json()["refresh_token"]
    reused = _refresh(fake_esi, strict)  # the successor was never used, and still:
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert _refresh(fake_esi, successor).status_code == 400  # the whole grant is revoked
    assert fake_esi.sso.revoked == 1


def test_an_unknown_rotation_mode_is_refused_by_name(fake_esi: FakeESIServer) -> None:
    refused = httpx2.post(f"{fake_esi.url}/_fake/sso", json={"refresh_rotation": "sometimes"})
    assert refused.status_code == 400 and "none, take-back, strict" in refused.json()["error"]
    assert fake_esi.sso.refresh_rotation == "take-back"
