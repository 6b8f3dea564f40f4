"""Tokens belong to someone: queries, logins, refreshes and cleanup keep a site user's tokens
theirs, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest

from esi_auth import SSOApp
from esi_auth.cleanup import cleanup_token
from esi_auth.errors import InvalidGrantError
from esi_fake._sso import Character
from tests.support.auth_support import WALLET_SCOPE, AuthSetup, make_setup
from tests.support.fixtures import FakeESIServer, ManualClock


def _log_in(setup: AuthSetup, owner: str | None, character: Character, fake: FakeESIServer) -> Any:
    fake.sso.character = character
    pending = setup.login.start(WALLET_SCOPE, owner=owner, return_to="/wallet?x=1")
    callback = httpx2.get(pending.url, follow_redirects=False).headers["location"]
    return setup.login.complete(callback)


def test_each_user_sees_only_their_tokens(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path, store_url: str
) -> None:
    setup = make_setup(fake_esi, esi_clock, tmp_path, url=store_url)
    app = SSOApp(setup.sso.config, setup.store, clock=esi_clock)
    alice_1 = _log_in(setup, "alice", Character(91000001, "A One", "oa1"), fake_esi)
    _log_in(setup, "alice", Character(91000002, "A Two", "oa2"), fake_esi)
    _log_in(setup, "bob", Character(92000001, "B One", "ob1"), fake_esi)
    _log_in(setup, None, Character(93000001, "Cli Pilot", "oc1"), fake_esi)
    assert alice_1.return_to == "/wallet?x=1" and alice_1.token.owner == "alice"
    assert {t.character_id for t in app.tokens(owner="alice")} == {91000001, 91000002}
    assert {t.character_id for t in app.tokens(owner="bob").require_scopes(WALLET_SCOPE)} == {92000001}
    assert {t.character_id for t in app.tokens(owner=None)} == {93000001}
    assert app.tokens().count() == 4


def test_refresh_and_cleanup_keep_the_owner(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path, store_url: str
) -> None:
    setup = make_setup(fake_esi, esi_clock, tmp_path, url=store_url)
    done = _log_in(setup, "alice", Character(91000001, "A One", "oa1"), fake_esi)
    esi_clock.advance(1300)
    app = SSOApp(setup.sso.config, setup.store, clock=esi_clock)
    assert cleanup_token(app).refreshed == 1
    refreshed = setup.store.get(done.token.id)
    assert refreshed is not None and refreshed.owner == "alice" and refreshed.expires_at > esi_clock.now()


def test_an_owner_change_removes_only_this_apps_tokens(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path, store_url: str
) -> None:
    """Two apps share one database. The character is sold; what one app learns (at login or at
    refresh) removes its own earlier-owner tokens, never the other app's."""
    first = make_setup(fake_esi, esi_clock, tmp_path / "first", url=store_url)
    second = make_setup(fake_esi, esi_clock, tmp_path / "second", url=store_url)
    fake_esi.sso.character = Character(91000001, "Sold Pilot", "before")
    first_before, second_before = first.log_in(), second.log_in()
    fake_esi.sso.character.owner = "after"
    first_after = first.log_in()  # login: the first app learns of the sale
    character = first_after.character_id
    remaining = first.store.query().filter(character_id=character).all()
    assert sorted((t.client_id, t.owner_hash) for t in remaining) == sorted(
        [(first_after.client_id, "after"), (second_before.client_id, "before")]
    )
    assert first.store.get(first_before.id or 0) is None
    esi_clock.advance(1300)  # refresh: the second app learns of it
    with pytest.raises(InvalidGrantError, match="changed owner"):
        second.refresher.ensure_fresh(second_before)
    remaining = first.store.query().filter(character_id=character).all()
    assert [(t.id, t.owner_hash) for t in remaining] == [(first_after.id, "after")]


def test_an_owner_change_is_announced_with_what_it_removed(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path
) -> None:
    from esi_auth.owners import remove_earlier_owners

    setup = make_setup(fake_esi, esi_clock, tmp_path)
    heard: list[dict[str, Any]] = []
    setup.events.subscribe("owner_changed", lambda **details: heard.append(details))
    first = setup.log_in()
    setup.log_in()  # a second token of the same owner
    fake_esi.sso.character.owner = "the-new-owner"
    newest = setup.log_in()
    assert heard == [{"character_id": first.character_id, "removed": 2}]
    unchanged = remove_earlier_owners(
        setup.store,
        setup.events,
        character_id=newest.character_id,
        client_id=newest.client_id,
        owner_hash=newest.owner_hash,
    )
    assert unchanged == 0 and len(heard) == 1  # nothing removed, nothing announced
