"""The guide's views in web apps, driven in Debian's headless Chromium by Playwright: the FastAPI
and Flask examples against the fake ESI + SSO. Two site users each log in characters and see
only their own; the selection page picks the right one; new=True forces a login; a single-use
page works signed out and stores nothing; forged callbacks are refused. Screenshots of the
selection page are kept in the test's output folder."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser

import pytest

from esi_auth import SQLTokenStore, SSOApp, SSOConfig
from esi_fake._sso import Character
from testbed.servers import free_port, require_binary, wait_for_port
from tests.support.fixtures import FakeESIServer, ManualClock

ALICE_1, ALICE_2 = Character(91000001, "Alice One", "oa1"), Character(91000002, "Alice Two", "oa2")
BOB_1, PASSER_BY = Character(92000001, "Bob One", "ob1"), Character(93000001, "Passer By", "op1")


def _example(name: str) -> Any:
    """An example script as a module (examples/ is a folder of scripts, not a package)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"esikit_example_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def web_app_config(fake: FakeESIServer, client_id: str, site: str) -> SSOConfig:
    """A web app (with a secret) registered at the fake SSO, its callback on `site`."""
    fake.sso.apps[client_id] = "web-secret"
    fake.sso.callbacks[client_id] = f"{site}/sso/callback"
    return SSOConfig(
        client_id=client_id,
        client_secret="web-secret",
        callback_url=f"{site}/sso/callback",
        login_url=fake.url,
    )


@contextmanager
def serve(kind: str, fake: FakeESIServer, store: SQLTokenStore) -> Iterator[str]:
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    sso = SSOApp(web_app_config(fake, f"web-{kind}", site), store)
    if kind == "fastapi":
        import uvicorn

        site_app = _example("web_fastapi").make_app(sso, fake.url)
        server = uvicorn.Server(uvicorn.Config(site_app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_for_port(port)
        try:
            yield site
        finally:
            server.should_exit = True
            thread.join(10)
    else:
        from werkzeug.serving import make_server

        flask_server = make_server(
            "127.0.0.1", port, _example("web_flask").make_app(sso, fake.url), threaded=True
        )
        thread = threading.Thread(target=flask_server.serve_forever, daemon=True)
        thread.start()
        try:
            yield site
        finally:
            flask_server.shutdown()


@pytest.fixture
def browser() -> Iterator[Browser]:
    require_binary("chromium")
    from playwright.sync_api import sync_playwright

    from tests.support.chromium_browser import CHROMIUM_FLAGS

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def _signed_in(browser: Browser, site: str, user: str) -> Any:
    page = browser.new_context().new_page()
    page.goto(f"{site}/signin?user={user}")
    return page


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fastapi", "flask"])
def test_site_users_tokens_and_choices(
    kind: str, fake_esi: FakeESIServer, browser: Browser, tmp_path: Path, store_url: str
) -> None:
    store = SQLTokenStore(store_url, secrets="plaintext")
    with serve(kind, fake_esi, store) as site:
        alice = _signed_in(browser, site, "alice")
        fake_esi.sso.character = ALICE_1
        alice.goto(f"{site}/wallet?tab=2")  # no token yet: through EVE SSO and back, query kept
        assert alice.url == f"{site}/wallet?tab=2"
        assert "Alice One (91000001)" in alice.text_content("#character")

        fake_esi.sso.character = ALICE_2
        alice.goto(f"{site}/wallet/new")  # new=True: a login although a token exists
        assert "Alice Two (91000002)" in alice.text_content("#character")

        alice.goto(f"{site}/wallet")  # two tokens now: the selection page
        assert "Choose a character" in alice.content()
        assert "esi-wallet.read_character_wallet.v1" in alice.content()
        alice.screenshot(path=str(tmp_path / f"selection-{kind}.png"), full_page=True)
        alice.click("text=Alice One")
        alice.click("button[type=submit]")
        assert "Alice One (91000001)" in alice.text_content("#character")
        alice.goto(f"{site}/wallet")  # the choice is remembered
        assert "Alice One (91000001)" in alice.text_content("#character")

        bob = _signed_in(browser, site, "bob")
        fake_esi.sso.character = BOB_1
        bob.goto(f"{site}/wallet")
        assert "Bob One (92000001)" in bob.text_content("#character")
        bob.goto(f"{site}/characters")
        assert bob.text_content("#characters").strip() == "Bob One (92000001)"
        alice.goto(f"{site}/characters")
        assert "Alice One" in alice.text_content("#characters") and "Bob" not in alice.text_content(
            "#characters"
        )
        assert {t.owner for t in store.query()} == {"alice", "bob"}
    assert (tmp_path / f"selection-{kind}.png").stat().st_size > 1000


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fastapi", "flask"])
def test_single_use_and_forged_callbacks(
    kind: str, fake_esi: FakeESIServer, browser: Browser, tmp_path: Path
) -> None:
    store = SQLTokenStore(f"sqlite:///{tmp_path / 'web.sqlite'}", secrets="plaintext")
    with serve(kind, fake_esi, store) as site:
        passer_by = browser.new_context().new_page()  # never signs in to the site
        fake_esi.sso.character = PASSER_BY
        passer_by.goto(f"{site}/single")
        assert "Passer By (93000001)" in (passer_by.text_content("#character") or "")
        assert store.query().count() == 0  # a single-use token is never stored
        passer_by.goto(f"{site}/single?esi_ticket=replayed")  # a made-up ticket: a fresh login instead
        assert passer_by.url.startswith(f"{site}/single?esi_ticket=")
        assert "replayed" not in passer_by.url
        assert "Passer By" in (passer_by.text_content("#character") or "")
        assert store.query().count() == 0

        forged = browser.new_context().new_page()
        answer = forged.goto(f"{site}/sso/callback?code=stolen&state=never-issued")
        assert (
            answer is not None
            and answer.status == 400
            and "not started from this browser" in forged.content()
        )

        fake_esi.sso.auto_approve = False  # stop on the SSO's page to read this login's state
        alice = _signed_in(browser, site, "alice")
        alice.goto(f"{site}/wallet")
        code = alice.get_attribute("input[name=code]", "value")
        state = alice.get_attribute("input[name=state]", "value")
        mallory = _signed_in(browser, site, "mallory")
        stolen = mallory.goto(f"{site}/sso/callback?code={code}&state={state}")
        assert stolen is not None and stolen.status == 400
        assert store.query().count() == 0
        alice.click("#approve")  # Alice's own login still completes
        assert "Passer By (93000001)" in alice.text_content("#character")
        assert [t.owner for t in store.query()] == ["alice"]

        alice.goto(f"{site}/wallet/new")
        state = alice.get_attribute("input[name=state]", "value")
        declined = alice.goto(f"{site}/sso/callback?error=access_denied&state={state}")
        assert declined is not None and declined.status == 400 and "declined" in alice.content()
        assert [t.owner for t in store.query()] == ["alice"]


def test_an_expired_web_login_says_start_again_and_is_cleaned_up(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path
) -> None:
    from urllib.parse import parse_qs, urlsplit

    import httpx2

    from esi_auth.cleanup import cleanup_callbackredirect
    from esi_auth.web import WebSSO
    from esi_auth.web.core import Page, Redirect

    fake_esi.sso.apps["web-unit"] = None
    store = SQLTokenStore(f"sqlite:///{tmp_path / 'web.sqlite'}", secrets="plaintext")
    app = SSOApp(SSOConfig(client_id="web-unit", login_url=fake_esi.url), store, clock=esi_clock)
    web = WebSSO(app, current_user=lambda request: "alice")
    session: dict[str, Any] = {}
    first = web.token_for(None, session, "/wallet?x=1", "esi-wallet.read_character_wallet.v1")
    assert isinstance(first, Redirect)
    callback = httpx2.get(first.url, follow_redirects=False).headers["location"]
    esi_clock.advance(400)  # longer than a pending login lives
    expired = web.callback(session, urlsplit(callback).query)
    assert isinstance(expired, Page) and expired.status == 400 and "start again" in expired.html
    web.token_for(None, session, "/wallet", "esi-wallet.read_character_wallet.v1")
    esi_clock.advance(400)
    assert cleanup_callbackredirect(app).deleted == 1  # web logins are pending logins too
    assert parse_qs(urlsplit(first.url).query)["state"][0] not in session.get("esi_states", [])
