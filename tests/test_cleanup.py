"""Cleanup jobs: pending logins, every token, and the rotating subset."""

from __future__ import annotations

import time
from pathlib import Path

import httpx2
import pytest

from esi_auth import SQLTokenStore, SSOApp, SSOConfig, Token
from esi_auth.cleanup import cleanup_callbackredirect, cleanup_token, cleanup_token_subset
from tests.support.fixtures import FakeESIServer, ManualClock

WALLET = "esi-wallet.read_character_wallet.v1"


@pytest.fixture
def app(fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path) -> SSOApp:
    client_id = f"cleanup-app-{len(fake_esi.sso.apps)}"
    fake_esi.sso.apps[client_id] = None
    config = SSOConfig(client_id=client_id, login_url=fake_esi.url)
    return SSOApp(
        config, SQLTokenStore(f"sqlite:///{tmp_path / 'c.sqlite'}", secrets="plaintext"), clock=esi_clock
    )


def _log_in(app: SSOApp) -> Token:
    pending = app.start_login(WALLET)
    return app.finish_login(httpx2.get(pending.url, follow_redirects=False).headers["location"])


def test_old_pending_logins_are_removed(app: SSOApp, esi_clock: ManualClock) -> None:
    old = app.start_login(WALLET)
    esi_clock.advance(200)
    recent = app.start_login(WALLET)
    esi_clock.advance(101)  # the first is 301 s old, the second 101 s
    summary = cleanup_callbackredirect(app, max_age=300)
    assert summary.deleted == 1
    assert app.store.take_pending_login(old.state) is None
    assert app.store.take_pending_login(recent.state) is not None


def test_cleanup_token_refreshes_deletes_and_keeps(
    app: SSOApp, fake_esi: FakeESIServer, esi_clock: ManualClock
) -> None:
    valid, dead, unlucky = _log_in(app), _log_in(app), _log_in(app)
    fake_esi.sso.fail_refresh_for = {
        dead.refresh_token or "": "invalid_grant",
        unlucky.refresh_token or "": "unavailable",
    }
    esi_clock.advance(1300)
    summary = cleanup_token(app)
    assert summary.as_dict() == {"visited": 3, "refreshed": 1, "deleted": 1, "failed": 1}
    assert app.store.get(dead.id or 0) is None
    kept = app.store.get(unlucky.id or 0)
    assert kept is not None and kept.expires_at < esi_clock.now()
    refreshed = app.store.get(valid.id or 0)
    assert refreshed is not None and refreshed.expires_at > esi_clock.now()


def _tokens(app: SSOApp, count: int, first_character: int) -> list[Token]:
    made = [
        Token(
            character_id=first_character + n,
            character_name="x",
            owner_hash="o",
            scopes=(WALLET,),
            client_id=app.config.client_id,
            access_token="a",
            refresh_token="r",
            expires_at=time.time() + 10**7,
        )
        for n in range(count)
    ]
    app.store.save_many(made)
    return made


def test_subset_rotation_visits_each_token_once_per_cycle(app: SSOApp) -> None:
    visits: list[int] = []
    original = app.refresher.ensure_fresh

    def recording(token: Token) -> Token:
        visits.append(token.id or 0)
        return original(token)

    app.refresher.ensure_fresh = recording  # type: ignore[method-assign]
    present_all_cycle = {t.id for t in _tokens(app, 150, 1000)}
    removed_later = [t.id or 0 for t in _tokens(app, 20, 5000)]
    for call in range(48):
        if call == 10:
            app.store.delete(removed_later)
        if call == 20:
            _tokens(app, 30, 9000)  # added mid-cycle
        cleanup_token_subset(app, fraction=1 / 48)
    assert len(visits) == len(set(visits))  # nobody twice in one cycle
    assert present_all_cycle <= set(visits)  # everybody present all cycle, once
    first_cycle = set(visits)
    visits.clear()
    for _ in range(48):
        cleanup_token_subset(app, fraction=1 / 48)
    assert len(visits) == len(set(visits)) == len(app.store.token_ids())  # a full cycle: every token
    assert present_all_cycle <= first_cycle


def test_a_subset_spreads_its_refreshes(app: SSOApp, esi_clock: ManualClock, fake_esi: FakeESIServer) -> None:
    """Refreshes go out `spread_seconds` apart in all, not as one burst (on the manual clock)."""
    for _ in range(5):
        _log_in(app)
    esi_clock.advance(1300)  # every token has expired
    started = esi_clock.now()
    summary = cleanup_token_subset(app, 1.0, spread_seconds=100.0)
    assert summary.refreshed == 5
    assert 80.0 <= esi_clock.now() - started <= 100.0  # the last one went at 80 s


def test_beat_schedules_are_the_apps_own_minutes() -> None:
    from esi_auth.tasks import beat_schedule

    minutes = set()
    for client_id in ("app-one", "app-two", "app-three", "app-four"):
        schedule = beat_schedule(client_id)
        assert schedule == beat_schedule(client_id)  # the same every time
        token_job = schedule["esi_cleanup_token"]["schedule"]
        minutes.add(tuple(sorted(token_job.minute)))
        assert token_job.minute != {0}  # never on the hour with everyone else
    assert len(minutes) > 1  # apps differ
