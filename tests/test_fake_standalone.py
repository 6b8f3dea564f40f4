"""The fake ESI + SSO as a standalone server any client can use: apps registered on its command
line or over HTTP, CCP's spec served, every error ESI-shaped and counted, no dropped connections."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest

from esi_fake import ForcedReply
from testbed.servers import fake_server_process
from tests.support.auth_support import refresh_at
from tests.support.fixtures import FakeESIServer


@pytest.fixture(scope="module")
def standalone(spec_path: Path) -> Iterator[str]:
    apps = ["native-app=http://localhost:8080/callback", "web-app:s3cret=http://127.0.0.1:9000/sso/callback"]
    with fake_server_process(spec_path, *(option for app in apps for option in ("--app", app))) as url:
        yield url


def test_apps_registered_on_the_command_line_can_log_in(standalone: str) -> None:
    query = {
        "response_type": "code",
        "client_id": "web-app",
        "redirect_uri": "http://127.0.0.1:9000/sso/callback",
        "scope": "esi-wallet.read_character_wallet.v1",
        "state": "abc",
    }
    answer = httpx2.get(f"{standalone}/v2/oauth/authorize/?{urlencode(query)}", follow_redirects=False)
    assert answer.status_code == 302, answer.text  # the trailing slash, as CCP documents it
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    token = httpx2.post(
        f"{standalone}/v2/oauth/token",
        data={"grant_type": "authorization_code", "code": code},
        auth=("web-app", "s3cret"),
    )
    assert token.status_code == 200 and "access_token" in token.json()
    wrong = httpx2.get(
        f"{standalone}/v2/oauth/authorize?{urlencode({**query, 'redirect_uri': 'https://attacker.example/'})}",
        follow_redirects=False,
    )
    assert wrong.status_code == 400


def test_apps_and_sso_knobs_over_http(standalone: str) -> None:
    answer = httpx2.post(
        f"{standalone}/_fake/sso",
        json={
            "apps": {"late-app": {"secret": None, "callback": "http://localhost:7000/cb"}},
            "token_delay_s": 0,
        },
    )
    assert answer.status_code == 200, answer.text
    query = {
        "response_type": "code",
        "client_id": "late-app",
        "redirect_uri": "http://localhost:7000/cb",
        "scope": "publicData",
        "state": "s",
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
    }
    assert httpx2.get(f"{standalone}/v2/oauth/authorize?{urlencode(query)}").status_code == 302
    for knob in ({"fail_refresh": "invalid_grant"}, {"rotate_keys": True}, {"fail_refresh": None}):
        assert httpx2.post(f"{standalone}/_fake/sso", json=knob).status_code == 200
    assert httpx2.post(f"{standalone}/_fake/sso", json={"no_such_knob": 1}).status_code == 400


def test_a_token_minted_over_http_calls_authenticated_routes(standalone: str) -> None:
    """Any client's test suite gets a token without a browser: POST /_fake/token."""
    scope = "esi-wallet.read_character_wallet.v1"
    minted = httpx2.post(f"{standalone}/_fake/token", json={"client_id": "native-app", "scopes": [scope]})
    assert minted.status_code == 200, minted.text
    answer = minted.json()
    character = answer["character_id"]
    headers = {"Authorization": f"Bearer {answer['access_token']}", "X-Compatibility-Date": "2026-08-04"}
    wallet = httpx2.get(f"{standalone}/characters/{character}/wallet", headers=headers)
    assert wallet.status_code == 200, wallet.text
    assets = httpx2.get(f"{standalone}/characters/{character}/assets", headers=headers)
    assert assets.status_code == 403  # only the scopes asked for
    refreshed = refresh_at(standalone, "native-app", answer["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    everything = httpx2.post(f"{standalone}/_fake/token", json={"client_id": "native-app", "scopes": "all"})
    headers["Authorization"] = f"Bearer {everything.json()['access_token']}"
    assert httpx2.get(f"{standalone}/characters/{character}/assets", headers=headers).status_code == 200
    unknown = httpx2.post(
        f"{standalone}/_fake/token", json={"client_id": "native-app", "scopes": ["esi-no.v1"]}
    )
    assert unknown.status_code == 400


def test_the_spec_is_served_naming_the_fake(standalone: str, spec_document: dict[str, Any]) -> None:
    served = httpx2.get(f"{standalone}/meta/openapi.json").json()
    assert served["servers"] == [{"url": standalone}]
    assert len(served["paths"]) == len(spec_document["paths"])
    dates = httpx2.get(f"{standalone}/meta/compatibility-dates").json()
    assert dates["compatibility_dates"] == [spec_document["info"]["version"]]


def test_unknown_routes_and_bad_input_are_esi_shaped_and_counted(standalone: str) -> None:
    with httpx2.Client(base_url=standalone) as client:
        before = int(client.get("/status").headers["x-esi-error-limit-remain"])
        unknown = client.get("/no/such/route")
        assert unknown.status_code == 404 and "error" in unknown.json()
        assert unknown.headers["x-esi-error-limit-remain"] == str(before - 1)
        bad_page = client.get("/markets/10000002/orders", params={"page": "abc"})
        assert bad_page.status_code == 400 and "error" in bad_page.json()
        assert int(bad_page.headers["x-esi-error-limit-remain"]) == before - 2
        assert client.get("/status").status_code == 200  # the same connection still works


def test_a_forced_420_reports_no_errors_left(fake_esi: FakeESIServer) -> None:
    fake_esi.state.faults.forced = [ForcedReply(420, count=1)]
    answer = httpx2.get(f"{fake_esi.url}/status")
    assert answer.status_code == 420 and answer.headers["x-esi-error-limit-remain"] == "0"
