"""A rotated refresh token whose answer never reaches the client (the connection dropped, the
process was killed) must not cost the grant: EVE SSO keeps the token the client still holds
usable until its successor is used, and the client tries again at once. A real replay (a
rotated-away token presented after its successor was used) still revokes the grant."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from esi_auth.errors import InvalidGrantError, SSOError
from esi_auth.sso import TokenAnswer
from tests.support.auth_support import keeps_the_newest, make_setup, refresh_at
from tests.support.fixtures import FakeESIServer, ManualClock


def _refresh(fake: FakeESIServer, client_id: str, refresh_token: str) -> httpx2.Response:
    return refresh_at(fake.url, client_id, refresh_token)


def test_a_dropped_refresh_answer_is_retried_and_loses_nothing(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Any, refresh_rotation: str
) -> None:
    fake_esi.sso.refresh_rotation = refresh_rotation
    setup = make_setup(fake_esi, esi_clock, tmp_path)
    token = setup.log_in()
    fake_esi.sso.lose_refresh_answers = 1
    if refresh_rotation == "strict":
        _the_grant_is_lost(fake_esi, setup, token)
        return
    refreshed = setup.refresher.refresh(token, force=True)
    assert keeps_the_newest(refresh_rotation, token.refresh_token, refreshed.refresh_token)
    assert sum(fake_esi.sso.refreshes.values()) == 2  # the lost answer, then the retry
    assert fake_esi.sso.revoked == 0
    assert fake_esi.sso.replays == (1 if refresh_rotation == "take-back" else 0)
    stored = setup.store.get(token.id or 0)
    assert stored is not None and stored.refresh_token == refreshed.refresh_token
    assert _refresh(fake_esi, token.client_id, stored.refresh_token or "").status_code == 200


def _the_grant_is_lost(fake: FakeESIServer, setup: Any, token: Any) -> None:
    """Strict reuse detection's cost: the retry presents the rotated-away token, SSO revokes the
    grant, and the character must log in again; the error says so and the token is gone."""
    with pytest.raises(InvalidGrantError, match="Log in again"):
        setup.refresher.refresh(token, force=True)
    assert sum(fake.sso.refreshes.values()) == 1 and fake.sso.revoked == 1
    assert setup.store.get(token.id or 0) is None


def test_answers_lost_until_the_retries_run_out_keep_the_grant_for_next_time(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Any, refresh_rotation: str
) -> None:
    fake_esi.sso.refresh_rotation = refresh_rotation
    setup = make_setup(fake_esi, esi_clock, tmp_path)
    token = setup.log_in()
    fake_esi.sso.lose_refresh_answers = 10
    if refresh_rotation == "strict":
        _the_grant_is_lost(fake_esi, setup, token)
        return
    with pytest.raises(SSOError) as caught:
        setup.refresher.refresh(token, force=True)
    assert caught.value.transient and "EVE SSO" in str(caught.value)
    kept = setup.store.get(token.id or 0)
    assert kept is not None and kept.refresh_token == token.refresh_token
    fake_esi.sso.lose_refresh_answers = 0
    later = setup.refresher.refresh(kept, force=True)
    assert keeps_the_newest(refresh_rotation, token.refresh_token, later.refresh_token)
    assert fake_esi.sso.revoked == 0


def test_a_replay_after_the_successor_was_used_revokes_the_grant(fake_esi: FakeESIServer) -> None:
    fake_esi.sso.apps["replay-app"] = None
    first = fake_esi.sso.grant(
        "replay-app", fake_esi.sso.character, ("esi-wallet.read_character_wallet.v1",), "f1"
    )
    second = _refresh(fake_esi, "replay-app", first["refresh_token"]).json()["refresh_token"]
    third = _refresh(fake_esi, "replay-app", second).json()["refresh_token"]  # the successor is used
    stolen = _refresh(fake_esi, "replay-app", first["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert fake_esi.sso.revoked == 1
    assert _refresh(fake_esi, "replay-app", third).status_code == 400  # the whole family is gone


def test_a_thief_replaying_first_is_caught_when_the_owner_refreshes(fake_esi: FakeESIServer) -> None:
    fake_esi.sso.apps["replay-app"] = None
    first = fake_esi.sso.grant(
        "replay-app", fake_esi.sso.character, ("esi-wallet.read_character_wallet.v1",), "f2"
    )
    owners = _refresh(fake_esi, "replay-app", first["refresh_token"]).json()["refresh_token"]
    thief = _refresh(fake_esi, "replay-app", first["refresh_token"])  # before the owner used theirs
    assert thief.status_code == 200 and fake_esi.sso.replays == 1
    caught = _refresh(fake_esi, "replay-app", owners)  # retired unseen: someone else replayed
    assert caught.status_code == 400 and fake_esi.sso.revoked == 1
    assert _refresh(fake_esi, "replay-app", thief.json()["refresh_token"]).status_code == 400


def test_a_replay_window_can_be_set_and_then_expires(fake_esi: FakeESIServer, esi_clock: ManualClock) -> None:
    fake_esi.sso.apps["replay-app"] = None
    fake_esi.sso.refresh_replay_seconds = 30.0
    first = fake_esi.sso.grant(
        "replay-app", fake_esi.sso.character, ("esi-wallet.read_character_wallet.v1",), "f3"
    )
    assert _refresh(fake_esi, "replay-app", first["refresh_token"]).status_code == 200
    esi_clock.advance(31)
    late = _refresh(fake_esi, "replay-app", first["refresh_token"])
    assert late.status_code == 400 and fake_esi.sso.revoked == 1


def test_invalid_grant_is_not_retried(fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Any) -> None:
    setup = make_setup(fake_esi, esi_clock, tmp_path)
    token = setup.log_in()
    fake_esi.sso.fail_refresh = "invalid_grant"
    with pytest.raises(InvalidGrantError):
        setup.refresher.refresh(token, force=True)
    assert sum(fake_esi.sso.refreshes.values()) == 0 and setup.store.get(token.id or 0) is None


@pytest.mark.parametrize("left", ["margin-and-a-second", "margin"])
def test_an_answer_saved_by_a_process_that_died_is_used_while_good_for_the_margin(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Any, left: str
) -> None:
    """A process saved SSO's answer and died before validating it: the next refresh validates
    that saved answer instead of asking SSO, keeping its refresh token, while its access token
    is good for more than the margin; with the margin alone left, SSO is asked."""
    setup = make_setup(fake_esi, esi_clock, tmp_path)
    token = setup.log_in()
    assert token.id is not None
    answer = _refresh(fake_esi, token.client_id, token.refresh_token or "").json()
    setup.store.save_rotation(token.id, answer["refresh_token"], answer["access_token"])  # then died
    expires_at = setup.sso.validate(TokenAnswer(answer["access_token"])).claims.expires_at
    esi_clock.advance(expires_at - esi_clock.now() - setup.refresher.margin - (1 if left != "margin" else 0))
    asked = sum(fake_esi.sso.refreshes.values())
    left_behind = setup.store.get(token.id)  # what the next worker reads: marked unvalidated
    assert left_behind is not None and left_behind.expires_at == 0
    refreshed = setup.refresher.ensure_fresh(left_behind)
    stored = setup.store.get(token.id)
    assert stored is not None and (stored.refresh_token, stored.access_token) == (
        refreshed.refresh_token,
        refreshed.access_token,
    )
    if left == "margin":  # not good for long enough: SSO is asked, with the saved refresh token
        assert sum(fake_esi.sso.refreshes.values()) == asked + 1
        assert refreshed.access_token != answer["access_token"] and refreshed.expires_at > expires_at
        return
    assert sum(fake_esi.sso.refreshes.values()) == asked
    assert (refreshed.access_token, refreshed.refresh_token) == (
        answer["access_token"],
        answer["refresh_token"],
    )
    assert refreshed.expires_at == expires_at
