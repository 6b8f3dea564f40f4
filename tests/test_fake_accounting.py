"""The fake ESI counts what a fleet must not do: identical requests sent while an equal one is
in flight or still fresh (CCP's most common abuse), and the access tokens each character's
calls used (so refreshes can be compared with the expiries that needed one)."""

from __future__ import annotations

import base64
import email.utils
import json
import threading
from typing import Any

import httpx2

from tests.support.auth_support import refresh_at
from tests.support.fixtures import FakeESIServer, ManualClock

HEADERS = {"X-Compatibility-Date": "2026-08-04"}


def test_duplicates_in_flight_and_while_fresh_are_counted(fake_esi: FakeESIServer) -> None:
    fake_esi.state.faults.delay_s = 0.3
    fake_esi.state.faults.delay_operations = frozenset({"GetStatus"})
    url = f"{fake_esi.url}/status"
    threads = [threading.Thread(target=lambda: httpx2.get(url, headers=HEADERS)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fake_esi.state.stats.duplicates == 2  # two sent while the first was in flight
    httpx2.get(url, headers=HEADERS)  # still fresh (GetStatus is cached 30 s)
    assert fake_esi.state.stats.duplicates == 3
    httpx2.get(f"{fake_esi.url}/universe/types/34", headers=HEADERS)
    httpx2.get(f"{fake_esi.url}/universe/types/35", headers=HEADERS)  # another resource
    assert fake_esi.state.stats.duplicates == 3
    stats = httpx2.get(f"{fake_esi.url}/_fake/stats").json()
    assert stats["duplicates"] == 3 and stats["duplicates_by_operation"] == {"GetStatus": 3}


def test_access_tokens_used_are_counted_per_character(fake_esi: FakeESIServer) -> None:
    scope = "esi-wallet.read_character_wallet.v1"
    for _ in range(2):
        minted = httpx2.post(f"{fake_esi.url}/_fake/token", json={"scopes": [scope]}).json()
        headers = {**HEADERS, "Authorization": f"Bearer {minted['access_token']}"}
        for _ in range(2):
            httpx2.get(f"{fake_esi.url}/characters/{minted['character_id']}/wallet", headers=headers)
    stats = httpx2.get(f"{fake_esi.url}/_fake/stats").json()
    assert stats["access_tokens_used"] == {str(minted["character_id"]): 2}


def test_short_cache_ages_and_group_spend_for_short_runs(fake_esi: FakeESIServer) -> None:
    assert httpx2.post(f"{fake_esi.url}/_fake/faults", json={"max_cache_age": 2}).status_code == 200
    answer = httpx2.get(f"{fake_esi.url}/status", headers=HEADERS)
    expires = email.utils.parsedate_to_datetime(answer.headers["expires"])
    date = email.utils.parsedate_to_datetime(answer.headers["date"])
    assert (expires - date).total_seconds() == 2
    stats = httpx2.get(f"{fake_esi.url}/_fake/stats").json()
    assert stats["rate_tokens_spent"] == {"status": 2} and stats["sso_refreshes"] == 0


def test_a_refresh_keeps_its_own_characters_owner(fake_esi: FakeESIServer) -> None:
    """Logging a second character in must not make the first one's refreshes look sold."""
    first = httpx2.post(
        f"{fake_esi.url}/_fake/token", json={"scopes": ["esi-wallet.read_character_wallet.v1"]}
    ).json()
    other = {"character_id": 90000002, "name": "Other Pilot", "owner": "other-owner"}
    httpx2.post(f"{fake_esi.url}/_fake/sso", json={"character": other})
    refreshed = refresh_at(fake_esi.url, "esi-fake-tests", first["refresh_token"]).json()
    payload = refreshed["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"].endswith(str(first["character_id"])) and claims["owner"] == "owner-hash-1"


def test_scaled_rate_windows_show_in_the_headers_and_refill(
    fake_esi: FakeESIServer, esi_clock: ManualClock
) -> None:
    """A run of minutes sees windows refill: the fake scales them, says so in X-Ratelimit-Limit,
    and counts every token spent in the run with the span it was spent over."""
    faults = {"rate_window_scale": 1 / 90, "rate_limit_overrides": {"status": 4}}
    assert httpx2.post(f"{fake_esi.url}/_fake/faults", json=faults).status_code == 200
    first = httpx2.get(f"{fake_esi.url}/status", headers=HEADERS)
    assert first.headers["x-ratelimit-limit"] == "4/10s"  # the spec's 15 minutes, scaled
    httpx2.get(f"{fake_esi.url}/status", headers=HEADERS)
    assert httpx2.get(f"{fake_esi.url}/status", headers=HEADERS).status_code == 429
    esi_clock.advance(10.5)
    again = httpx2.get(f"{fake_esi.url}/status", headers=HEADERS)
    assert again.status_code == 200 and again.headers["x-ratelimit-remaining"] == "2"
    stats = httpx2.get(f"{fake_esi.url}/_fake/stats").json()
    assert stats["rate_tokens_spent"] == {"status": 2}  # within the window now
    run = stats["rate_groups"]["status"]
    assert run["tokens"] == 6 and run["limit"] == 4 and run["window_seconds"] == 10
    assert 10.4 <= run["span_seconds"] <= 10.6
    assert run["whole_windows"] == 1 and run["tokens_in_whole_windows"] == 4  # the 4 at the start
    window = {"rate_window_overrides": {"status": 120}}
    assert httpx2.post(f"{fake_esi.url}/_fake/faults", json=window).status_code == 200
    assert httpx2.get(f"{fake_esi.url}/status", headers=HEADERS).headers["x-ratelimit-limit"] == "4/2m"


def test_a_character_s_newest_refresh_counts_as_unused_until_a_call_uses_it(fake_esi: FakeESIServer) -> None:
    scope = "esi-wallet.read_character_wallet.v1"
    minted = httpx2.post(f"{fake_esi.url}/_fake/token", json={"client_id": "acct", "scopes": [scope]}).json()
    wallet = f"{fake_esi.url}/characters/{minted['character_id']}/wallet"

    def refresh(token: str) -> dict[str, Any]:
        answer: dict[str, Any] = refresh_at(fake_esi.url, "acct", token).json()
        return answer

    def unused_last() -> int:
        count: int = httpx2.get(f"{fake_esi.url}/_fake/stats").json()["sso_refreshes_unused_last"]
        return count

    first = refresh(minted["refresh_token"])
    assert unused_last() == 1
    httpx2.get(wallet, headers={**HEADERS, "Authorization": f"Bearer {first['access_token']}"})
    assert unused_last() == 0
    second = refresh(first["refresh_token"])
    assert unused_last() == 1  # the first one's use does not count for the newest
    httpx2.get(wallet, headers={**HEADERS, "Authorization": f"Bearer {second['access_token']}"})
    assert unused_last() == 0
