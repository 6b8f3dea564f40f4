"""A web login belongs to the site user who started it, in the browser that started it; what it
keeps meanwhile is bounded and kept like a secret."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

if TYPE_CHECKING:
    from playwright.sync_api import Browser

from esi_auth import SQLTokenStore, SSOApp, SSOConfig
from esi_auth.store._schema import pending_logins
from esi_auth.web import WebSSO
from esi_auth.web.core import MAX_STATES, Page, Redirect, _local
from tests.conftest import STORE_KEY
from tests.support.fixtures import FakeESIServer, ManualClock
from tests.test_web_views import BOB_1, _signed_in, browser, serve  # noqa: F401 (fixture)

WALLET = "esi-wallet.read_character_wallet.v1"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fastapi", "flask"])
def test_a_login_finished_by_another_site_user_is_refused(
    kind: str,
    fake_esi: FakeESIServer,
    browser: Browser,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    """Alice starts a login; Bob signs in to the site in the same browser and approves his
    character: Bob's token must not be stored as Alice's (nor as Bob's: he never asked)."""
    store = SQLTokenStore(f"sqlite:///{tmp_path / 'web.sqlite'}", secrets="plaintext")
    with serve(kind, fake_esi, store) as site:
        fake_esi.sso.auto_approve = False
        page = _signed_in(browser, site, "alice")
        page.goto(f"{site}/wallet")  # stops on the SSO's approval page
        sso_page = page.url
        page.goto(f"{site}/signin?user=bob")  # same browser, another site user
        fake_esi.sso.character = BOB_1
        page.goto(sso_page)
        with page.expect_response(lambda response: "/sso/callback" in response.url) as answered:
            page.click("#approve")
        assert answered.value.status == 403
        assert "site user changed" in page.content()
        assert store.query().count() == 0
        assert store.count_pending_logins() == 0  # the refused login is gone, not replayable

        page.goto(f"{site}/wallet")  # Bob's own login works
        page.click("#approve")
        assert "Bob One (92000001)" in page.text_content("#character")
        assert [(t.owner, t.character_id) for t in store.query()] == [("bob", BOB_1.character_id)]


def _web(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path, users: list[str | None], **store: Any
) -> WebSSO:
    fake_esi.sso.apps["web-unit"] = None
    sql = SQLTokenStore(f"sqlite:///{tmp_path / 'web.sqlite'}", **(store or {"secrets": "plaintext"}))
    app = SSOApp(SSOConfig(client_id="web-unit", login_url=fake_esi.url), sql, clock=esi_clock)
    return WebSSO(app, current_user=lambda request: users[0])


def test_the_site_user_is_checked_at_the_callback(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path
) -> None:
    import httpx2

    for after in ("bob", None):  # another user, or signed out
        users: list[str | None] = ["alice"]
        web = _web(fake_esi, esi_clock, tmp_path / str(after), users)
        session: dict[str, Any] = {}
        started = web.token_for(None, session, "/wallet", WALLET)
        assert isinstance(started, Redirect)
        callback = httpx2.get(started.url, follow_redirects=False).headers["location"]
        users[0] = after
        refused = web.callback(session, urlsplit(callback).query, None)
        assert isinstance(refused, Page) and refused.status == 403
        assert web.app.store.query().count() == 0
        users[0] = "alice"  # even back as alice: the login was used up
        again = web.callback(session, urlsplit(callback).query, None)
        assert isinstance(again, Page) and again.status == 400


def test_pending_logins_are_bounded_per_browser(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path
) -> None:
    web = _web(fake_esi, esi_clock, tmp_path, ["alice"])
    session: dict[str, Any] = {}
    for n in range(MAX_STATES * 3):
        assert isinstance(web.token_for(None, session, f"/wallet?n={n}", WALLET), Redirect)
    assert len(session["esi_states"]) == MAX_STATES
    assert web.app.store.count_pending_logins() == MAX_STATES  # the dropped ones left the store too


def test_pending_logins_expire_in_all(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path
) -> None:
    web = _web(fake_esi, esi_clock, tmp_path, ["alice"])
    for n in range(5):
        web.token_for(None, {}, f"/w{n}", WALLET)  # five browsers, never finished
    assert web.app.store.count_pending_logins() == 5
    esi_clock.advance(301)
    web.token_for(None, {}, "/later", WALLET)
    assert web.app.store.count_pending_logins() == 1


def test_a_pkce_verifier_is_kept_encrypted_and_deleted_once_used(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path
) -> None:
    store = SQLTokenStore(f"sqlite:///{tmp_path / 'native.sqlite'}", secret_key=STORE_KEY)
    fake_esi.sso.apps["native-unit"] = None
    app = SSOApp(SSOConfig(client_id="native-unit", login_url=fake_esi.url), store, clock=esi_clock)
    pending = app.login.start([WALLET])
    challenge = parse_qs(urlsplit(pending.url).query)["code_challenge"][0]
    with store.engine.connect() as db:
        (kept,) = db.execute(select(pending_logins.c.code_verifier)).scalars()
    verifier = store.secrets.open(0, "pkce-" + hashlib.sha256(pending.state.encode()).hexdigest()[:32], kept)
    assert verifier is not None and kept != verifier and verifier not in kept
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert digest == challenge  # it is the verifier, sealed
    import httpx2

    callback = httpx2.get(pending.url, follow_redirects=False).headers["location"]
    assert app.login.finish(callback).character_id
    assert store.count_pending_logins() == 0


@pytest.mark.parametrize(
    ("target", "local"),
    [
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("//evil.example", "/"),
        ("////evil.example", "/"),  # no host, a path of '//evil.example': another site to a browser
        ("https://evil.example/", "/"),
        ("http:/evil.example", "/"),  # a scheme without a host
        ("/%0d%0aSet-Cookie:x", "/%0d%0aSet-Cookie:x"),  # still encoded: harmless
        ("/\tevil", "/"),
        ("/\x1fevil", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
        ("/ok\\..\\x", "/"),
        ("/wallet?tab=2&q=a b", "/wallet?tab=2&q=a b"),  # a space is not a control character
        ("/a//b?x=1", "/a//b?x=1"),
    ],
)
def test_only_local_paths_are_redirect_targets(target: str, local: str) -> None:
    assert _local(target) == local


def test_a_malformed_selection_is_a_400(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path
) -> None:
    web = _web(fake_esi, esi_clock, tmp_path, ["alice"])
    session: dict[str, Any] = {}
    csrf = web._csrf(session)
    for token in ["", "x", "١٢", "9" * 400, "-1", "1.5"]:
        answer = web.select(None, session, {"csrf": csrf, "token": token, "scopes": WALLET})
        assert isinstance(answer, Page) and answer.status == 400, token
