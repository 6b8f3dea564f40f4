"""The Flask and FastAPI adapters in-process: the example sites served through httpx2's WSGI and
ASGI transports, EVE SSO the real fake on 127.0.0.1. The same journeys as the browser tests
(tests/test_web_views.py), quick enough to run for every mutant of esi_auth.web."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs
import httpx2
import pytest

from esi_auth import SQLTokenStore, SSOApp, SSOConfig, Token
from esi_fake import Character
from tests.support.fixtures import FakeESIServer
from tests.test_web_views import ALICE_1, ALICE_2, BOB_1, PASSER_BY, _example, web_app_config

SITE = "http://site.test"
WALLET = "esi-wallet.read_character_wallet.v1"
SKILLS = "esi-skills.read_skills.v1"


class Browser:
    """One browser: its own cookies (so its own site session), redirects followed by hand so
    each hop can be checked. The site is in-process; EVE SSO is the fake's real server."""

    def __init__(self, kind: str, app: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.kind, self.loop = kind, loop
        self.sync: httpx2.Client | None = None
        self.async_: httpx2.AsyncClient | None = None
        self.hops: list[httpx2.Response] = []
        self.serve_from(app)

    def serve_from(self, app: Any) -> None:
        """From now on this browser's requests reach `app` (another process of the same site),
        its cookies kept: a load balancer without sticky sessions."""
        cookies = self.sync.cookies if self.sync is not None else self.async_.cookies if self.async_ else None
        self.close()
        if self.kind == "flask":
            self.sync = httpx2.Client(transport=httpx2.WSGITransport(app=app), base_url=SITE, cookies=cookies)
        else:
            self.async_ = httpx2.AsyncClient(
                transport=httpx2.ASGITransport(app=app), base_url=SITE, cookies=cookies
            )

    def site(self, method: str, url: str, **options: Any) -> httpx2.Response:
        if self.sync is not None:
            return self.sync.request(method, url, **options)
        assert self.async_ is not None
        return self.loop.run_until_complete(self.async_.request(method, url, **options))

    def go(self, method: str, url: str, **options: Any) -> httpx2.Response:
        """Follow redirects between the site and EVE SSO until a page answers."""
        self.hops = []
        answer = self.site(method, url, **options)
        while answer.status_code in (302, 303):
            self.hops.append(answer)
            target = answer.headers["location"]
            if target.startswith(SITE) or target.startswith("/"):
                parts = urlsplit(target)
                answer = self.site("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
            else:
                answer = httpx2.get(target, follow_redirects=False)  # the fake EVE SSO
        return answer

    def close(self) -> None:
        if self.sync is not None:
            self.sync.close()
            self.sync = None
        if self.async_ is not None:
            self.loop.run_until_complete(self.async_.aclose())
            self.async_ = None


def _text(page: httpx2.Response, element: str) -> str:
    found = re.search(rf"<(\w+) id={element}>(.*?)</\1>", page.text, re.S)
    assert found is not None, page.text
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(2))).split())


def _form(page: httpx2.Response, choose: str) -> dict[str, str]:
    """The selection form's fields, with the radio button of the character named `choose`."""
    fields = dict(re.findall(r'<input type=hidden name=(\w+) value="([^"]*)">', page.text))
    fields = {name: html.unescape(value) for name, value in fields.items()}
    choice = re.search(rf'name=token value="(\d+)"[^>]*> <b>{re.escape(choose)}</b>', page.text)
    assert choice is not None, page.text
    return {**fields, "token": choice.group(1)}


Site = tuple[Callable[[], Browser], SQLTokenStore, list[Any]]  # new browsers, the store, the processes


@pytest.fixture(params=["fastapi", "flask"])
def site(request: pytest.FixtureRequest, fake_esi: FakeESIServer, tmp_path: Path) -> Iterator[Site]:
    kind = str(request.param)
    config = web_app_config(fake_esi, f"web-inproc-{kind}", SITE)
    store = SQLTokenStore(f"sqlite:///{tmp_path / 'web.sqlite'}", secrets="plaintext")
    example = _example(f"web_{kind}")
    # Two processes of one site: one store, one session secret, each its own memory.
    processes = [example.make_app(SSOApp(config, store), fake_esi.url, session_secret="s" * 32) for _ in "ab"]
    loop = asyncio.new_event_loop()
    made: list[Browser] = []

    def browser() -> Browser:
        made.append(Browser(kind, processes[0], loop))
        return made[-1]

    try:
        yield browser, store, processes
    finally:
        for each in made:
            each.close()
        loop.close()


def _signed_in(site: Site, user: str) -> Browser:
    browser: Browser = site[0]()
    assert browser.go("GET", f"/signin?user={user}").status_code == 200
    return browser


def test_a_site_users_tokens_selection_and_choice(site: Site, fake_esi: FakeESIServer) -> None:
    store: SQLTokenStore = site[1]
    alice = _signed_in(site, "alice")
    fake_esi.sso.character = ALICE_1
    page = alice.go("GET", "/wallet?tab=2&esi_ticket=dropped")  # no token yet: EVE SSO and back
    assert page.status_code == 200 and _text(page, "character") == "Alice One (91000001)"
    assert [urlsplit(hop.headers["location"]).path for hop in alice.hops] == [
        "/v2/oauth/authorize", "/sso/callback", "/wallet",
    ]  # fmt: skip
    assert alice.hops[-1].headers["location"].endswith("/wallet?tab=2")  # query kept, ticket left out
    ours = [hop for hop in alice.hops if hop.url.host == "site.test"]
    assert [(hop.headers.get("cache-control"), hop.content) for hop in ours] == [("no-store", b"")] * 2

    fake_esi.sso.character = ALICE_2
    page = alice.go("GET", "/wallet/new")  # new=True: a login although a token exists
    assert _text(page, "character") == "Alice Two (91000002)"

    page = alice.go("GET", "/wallet")  # two tokens: the selection page
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert page.headers["content-type"].startswith("text/html")
    assert [hop.content for hop in alice.hops] == []
    assert "Choose a character" in page.text and f"<code>{WALLET}</code>" in page.text
    page = alice.go("POST", "/sso/select", data=_form(page, "Alice One"))
    assert _text(page, "character") == "Alice One (91000001)"
    assert _text(alice.go("GET", "/wallet"), "character") == "Alice One (91000001)"  # remembered

    # A token of Alice's without the page's scope is never listed for it (below).
    first = store.query().filter(character_id=91000001).first()
    assert first is not None
    store.save(
        attrs.evolve(first, id=None, character_id=91000003, character_name="Alice Three", scopes=(SKILLS,))
    )

    bob = _signed_in(site, "bob")
    fake_esi.sso.character = BOB_1
    assert _text(bob.go("GET", "/wallet"), "character") == "Bob One (92000001)"
    assert _text(bob.go("GET", "/characters"), "characters") == "Bob One (92000001)"
    assert _text(alice.go("GET", "/characters"), "characters") == "Alice Two (91000002) Alice One (91000001)"
    assert sorted((t.owner, t.character_id) for t in store.query()) == [
        ("alice", 91000001), ("alice", 91000002), ("alice", 91000003), ("bob", 92000001),
    ]  # fmt: skip


def test_a_choice_posted_with_a_wrong_csrf_or_token_is_refused(site: Site, fake_esi: FakeESIServer) -> None:
    alice = _signed_in(site, "alice")
    for character in (ALICE_1, ALICE_2):
        fake_esi.sso.character = character
        alice.go("GET", "/wallet/new")
    form = _form(alice.go("GET", "/wallet"), "Alice Two")
    refused = alice.go("POST", "/sso/select", data={**form, "csrf": "forged"})
    assert refused.status_code == 400 and refused.headers["cache-control"] == "no-store"
    bob = _signed_in(site, "bob")
    assert bob.go("POST", "/sso/select", data=form).status_code == 400  # Alice's form, Bob's session
    assert _text(alice.go("POST", "/sso/select", data=form), "character") == "Alice Two (91000002)"


def test_a_users_only_token_serves_them_in_another_browser_without_a_login(
    site: Site, fake_esi: FakeESIServer
) -> None:
    fake_esi.sso.character = ALICE_1
    assert _text(_signed_in(site, "alice").go("GET", "/wallet"), "character") == "Alice One (91000001)"
    elsewhere = _signed_in(site, "alice")  # another browser: nothing of that login in its session
    page = elsewhere.go("GET", "/wallet")
    assert _text(page, "character") == "Alice One (91000001)" and elsewhere.hops == []


def test_each_session_has_its_own_csrf_and_another_sessions_is_refused(
    site: Site, fake_esi: FakeESIServer
) -> None:
    forms = {}
    for user, characters in (
        ("alice", (ALICE_1, ALICE_2)),
        ("bob", (BOB_1, Character(92000002, "Bob Two", "ob2"))),
    ):
        browser = _signed_in(site, user)
        for character in characters:
            fake_esi.sso.character = character
            browser.go("GET", "/wallet/new")
        forms[user] = (browser, _form(browser.go("GET", "/wallet"), characters[1].name))
    (alice, alices), (bob, bobs) = forms["alice"], forms["bob"]
    assert alices["csrf"] != bobs["csrf"] and len(alices["csrf"]) == len(bobs["csrf"]) == 64
    assert _form(alice.go("GET", "/wallet"), "Alice One")["csrf"] == alices["csrf"]  # kept by the session
    assert bob.go("POST", "/sso/select", data={**bobs, "csrf": alices["csrf"]}).status_code == 400
    assert _text(bob.go("POST", "/sso/select", data=bobs), "character") == "Bob Two (92000002)"


def test_a_single_use_token_is_never_stored_and_a_forged_callback_is_refused(
    site: Site, fake_esi: FakeESIServer
) -> None:
    store: SQLTokenStore = site[1]
    passer_by = site[0]()  # never signs in to the site
    fake_esi.sso.character = PASSER_BY
    page = passer_by.go("GET", "/single?x=1")
    assert _text(page, "character") == "Passer By (93000001)"
    landed = urlsplit(passer_by.hops[-1].headers["location"])
    assert landed.path == "/single" and landed.query.startswith("x=1&esi_ticket=")
    assert store.query().count() == 0
    again = passer_by.go("GET", f"/single?x=1&{landed.query.split('&')[1]}")  # the ticket is spent
    assert _text(again, "character") == "Passer By (93000001)"
    assert urlsplit(passer_by.hops[0].headers["location"]).path == "/v2/oauth/authorize"  # a new login
    assert store.query().count() == 0

    forged = site[0]().go("GET", "/sso/callback?code=stolen&state=never-issued")
    assert forged.status_code == 400 and "not started from this browser" in forged.text

    fake_esi.sso.character = Character(94000001, "Declined Pilot", "od1")
    alice = _signed_in(site, "alice")
    to_sso = alice.site("GET", "/wallet")
    state = dict(httpx2.URL(to_sso.headers["location"]).params)["state"]
    declined = alice.go("GET", f"/sso/callback?error=access_denied&state={state}")
    assert declined.status_code == 400 and "declined" in declined.text
    assert store.query().count() == 0


def test_a_flask_view_without_the_blueprint_says_what_to_register(
    fake_esi: FakeESIServer, tmp_path: Path
) -> None:
    import flask

    from esi_auth.web.flask import token_required

    app = flask.Flask("no-blueprint")
    app.testing = True  # the view's exception reaches the caller

    @app.get("/wallet")
    @token_required(scopes=WALLET)
    def wallet(token: Any) -> str:
        return str(token.character_id)

    browser = httpx2.Client(transport=httpx2.WSGITransport(app=app), base_url=SITE)
    with browser, pytest.raises(RuntimeError) as caught:
        browser.get("/wallet")
    assert str(caught.value) == "register esi_auth.web.flask.blueprint(web) on the app, or pass web=..."


def _error_page(page: httpx2.Response) -> tuple[int, str, bool]:
    """(status, the message, whether it links back to start again) of an error page."""
    found = re.search(
        r"<title>EVE login</title>.*<h1>EVE login</h1><p>(.*?)</p>(.*)</html>$", page.text, re.S
    )
    assert found is not None, page.text
    again = found.group(2)
    assert again in ("", '<p><a href="/">Back to the site, to start again</a></p>'), page.text
    return page.status_code, html.unescape(found.group(1)), bool(again)


def _started_login(site: Site, user: str) -> tuple[Browser, str]:
    """A browser whose site user started a login (stopped before EVE SSO): the login's state."""
    browser = _signed_in(site, user)
    to_sso = browser.site("GET", "/wallet")
    return browser, dict(httpx2.URL(to_sso.headers["location"]).params)["state"]


NOT_STARTED = (400, "This login was not started from this browser; nothing was stored.", False)
MALFORMED = (400, "The callback's parameters are malformed; nothing was stored.", False)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("&".join(f"f{n}=x" for n in range(21)), MALFORMED),
        ("state=never-issued&" + "&".join(f"f{n}=x" for n in range(19)), NOT_STARTED),  # 20 fields: read
        ("state=never-issued&junk", NOT_STARTED),  # a field without a value is left out, not refused
        ("code=x", NOT_STARTED),
    ],
    ids=["21-fields", "20-fields", "lenient", "no-state"],
)  # fmt: skip
def test_a_callback_this_browser_did_not_start_is_refused(site: Site, query: str, expected: Any) -> None:
    browser, _ = _started_login(site, "alice")
    assert _error_page(browser.go("GET", f"/sso/callback?{query}")) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("error=access_denied", (400, "You declined the login at EVE SSO. Nothing was stored.", True)),
        ("error=temporarily_unavailable",
         (400, "EVE SSO refused the login (temporarily_unavailable). Nothing was stored.", True)),
        ("code=forged", (400, "This login has expired or was already used: start again.", True)),
    ],
    ids=["declined", "refused", "unknown-code"],
)  # fmt: skip
def test_a_login_that_fails_at_eve_sso_says_why_and_offers_to_start_again(
    site: Site, answer: str, expected: Any
) -> None:
    store: SQLTokenStore = site[1]
    browser, state = _started_login(site, "alice")
    assert _error_page(browser.go("GET", f"/sso/callback?{answer}&state={state}")) == expected
    assert _error_page(browser.go("GET", f"/sso/callback?code=x&state={state}")) == NOT_STARTED  # used up
    assert store.query().count() == 0


def test_a_login_finished_after_another_site_user_signed_in_is_refused(
    site: Site, fake_esi: FakeESIServer
) -> None:
    store: SQLTokenStore = site[1]
    browser, state = _started_login(site, "alice")
    assert browser.go("GET", "/signin?user=bob").status_code == 200  # the same browser, another user
    expected = (403, "The site user changed since this login started; nothing was stored.", True)
    assert _error_page(browser.go("GET", f"/sso/callback?code=x&state={state}")) == expected
    assert store.query().count() == 0


def test_a_login_eve_sso_could_not_finish_says_so_and_offers_to_start_again(
    site: Site, fake_esi: FakeESIServer
) -> None:
    """Not the login's fault (CCP's keys could not be read): the reason, and a way back."""
    store: SQLTokenStore = site[1]
    browser = _signed_in(site, "alice")
    fake_esi.sso.jwks_fail = True
    status, message, again = _error_page(browser.go("GET", "/wallet"))
    assert (status, again) == (400, True)
    jwks = f"{fake_esi.url}/oauth/jwks"
    exchange = "The login failed: the code exchange failed: access token rejected"
    assert message == f"{exchange}: could not fetch the JWKS from {jwks}: HTTP 503"
    assert store.query().count() == 0


CHOICE_REFUSED = {
    "csrf": "The form expired or did not come from this site: reload the page.",
    "none": "No character was chosen.",
    "theirs": "That character is not one of yours.",
}


def test_a_choice_is_checked_before_it_is_remembered(site: Site, fake_esi: FakeESIServer) -> None:
    """Every way a posted choice can be wrong has its own page (400); a right one is remembered."""
    store: SQLTokenStore = site[1]
    alice = _signed_in(site, "alice")
    for character in (ALICE_1, ALICE_2):
        fake_esi.sso.character = character
        alice.go("GET", "/wallet/new")
    form = _form(alice.go("GET", "/wallet"), "Alice Two")
    mine = store.query().filter(character_id=91000002).first()
    assert mine is not None
    other_app = store.save(attrs.evolve(mine, id=None, client_id="another-app"))
    without_scope = store.save(attrs.evolve(mine, id=None, scopes=(SKILLS,)))
    bobs = store.save(attrs.evolve(mine, id=None, owner="bob"))
    cases = [
        ({k: v for k, v in form.items() if k != "csrf"}, CHOICE_REFUSED["csrf"]),
        ({k: v for k, v in form.items() if k != "token"}, CHOICE_REFUSED["none"]),
        ({**form, "token": "1" * 19}, CHOICE_REFUSED["none"]),  # longer than any id
        ({**form, "token": "1" * 18}, CHOICE_REFUSED["theirs"]),  # an id's length, nobody's
        ({**form, "token": "٣"}, CHOICE_REFUSED["none"]),  # a digit, not an ASCII one
        ({**form, "token": str(other_app.id)}, CHOICE_REFUSED["theirs"]),  # Alice's, another app's
        ({**form, "token": str(without_scope.id)}, CHOICE_REFUSED["theirs"]),  # lacks the scopes
        ({**form, "token": str(bobs.id)}, CHOICE_REFUSED["theirs"]),  # another site user's
    ]
    for posted, message in cases:
        assert _error_page(alice.go("POST", "/sso/select", data=posted)) == (400, message, False), posted
    unscoped = {k: v for k, v in form.items() if k != "scopes"}  # no scopes: any of Alice's own
    assert alice.site("POST", "/sso/select", data=unscoped).status_code == 303
    assert _text(alice.go("POST", "/sso/select", data=form), "character") == "Alice Two (91000002)"


def test_a_page_of_all_ones_characters_needs_a_site_user(site: Site) -> None:
    stranger = site[0]()
    expected = (403, "Sign in to the site first: this page needs your EVE characters.", False)
    assert _error_page(stranger.go("GET", "/characters")) == expected
    expected = (403, "Sign in to the site first: this page needs your EVE character.", False)
    assert _error_page(stranger.go("GET", "/wallet")) == expected


def test_the_selection_page_lists_the_characters_and_the_scopes() -> None:
    from esi_auth.web.pages import selection_page

    tokens = [
        Token(
            character_id=n,
            character_name=name,
            owner_hash="o",
            scopes=(WALLET, SKILLS),
            client_id="a",
            access_token="a",
            refresh_token="r",
            expires_at=0.0,
            id=n,
        )
        for n, name in ((7, "Seven <b>"), (8, "Eight"))
    ]
    page = selection_page(tokens, (SKILLS, WALLET), "c&srf", "/sso/select", "/wallet?x=1&y=2")
    assert "<title>Choose a character</title>" in page
    assert (
        "<h1>Choose a character</h1><p>This page needs a character with these scopes:</p>"
        f"<ul><li><code>{SKILLS}</code></li><li><code>{WALLET}</code></li></ul>"
    ) in page
    radios = re.findall(
        r"<label><input type=radio name=token value=\"(\d+)\" required( checked)?> <b>(.*?)</b>", page
    )
    assert radios == [("7", " checked", "Seven &lt;b&gt;"), ("8", "", "Eight")]  # the first is chosen
    assert "(7)</label><label><input" in page  # one label after another, nothing between
    hidden = dict(re.findall(r'<input type=hidden name=(\w+) value="([^"]*)">', page))
    assert hidden == {"csrf": "c&amp;srf", "scopes": f"{SKILLS} {WALLET}", "return_to": "/wallet?x=1&amp;y=2"}
    assert page.endswith("<p><button type=submit>Use this character</button></p></form></html>")


def test_a_single_use_ticket_taken_to_another_process_starts_a_new_login(
    site: Site, fake_esi: FakeESIServer
) -> None:
    """The token waits in the memory of the process that handled the callback; another process
    (no sticky sessions) cannot redeem the ticket, so the page starts a login there, no error."""
    browser: Browser = site[0]()
    fake_esi.sso.character = PASSER_BY
    to_sso = browser.site("GET", "/single")
    callback = httpx2.get(to_sso.headers["location"], follow_redirects=False).headers["location"]
    parts = urlsplit(callback)
    with_ticket = browser.site("GET", f"{parts.path}?{parts.query}").headers["location"]
    assert "esi_ticket=" in with_ticket
    browser.serve_from(site[2][1])  # the next request lands on the other process
    fake_esi.sso.auto_approve = False  # stop at EVE SSO: the new login is what is looked for
    moved = browser.site("GET", with_ticket)
    assert moved.status_code == 303, moved.text
    assert urlsplit(moved.headers["location"]).path == "/v2/oauth/authorize"


def test_the_flask_blueprint_is_named_for_url_for(fake_esi: FakeESIServer, tmp_path: Path) -> None:
    import flask

    from esi_auth.web import WebSSO
    from esi_auth.web.flask import blueprint

    store = SQLTokenStore(f"sqlite:///{tmp_path / 'named.sqlite'}", secrets="plaintext")
    web = WebSSO(
        SSOApp(SSOConfig(client_id="named", login_url=fake_esi.url), store), current_user=lambda _r: None
    )
    app = flask.Flask("named")
    app.register_blueprint(blueprint(web))
    with app.test_request_context():
        assert flask.url_for("esi_sso.callback") == "/sso/callback"
        assert flask.url_for("esi_sso.select") == "/sso/select"


def test_flask_views_may_ask_for_no_scope(fake_esi: FakeESIServer, tmp_path: Path) -> None:
    """Logging in only to know who is there: the Flask decorators' scopes default to none."""
    from esi_auth.web.flask import single_use_token, token_required, tokens_required

    config = web_app_config(fake_esi, "web-inproc-no-scope", SITE)
    store = SQLTokenStore(f"sqlite:///{tmp_path / 'web.sqlite'}", secrets="plaintext")
    app = _example("web_flask").make_app(SSOApp(config, store), fake_esi.url, session_secret="s" * 32)
    app.add_url_rule("/who", "who", token_required()(lambda token: f"<p id=who>{token.character_name}</p>"))
    app.add_url_rule(
        "/all", "all", tokens_required()(lambda tokens: f"<p id=all>{[t.character_id for t in tokens]}</p>")
    )
    app.add_url_rule("/once", "once", single_use_token()(lambda token: f"<p id=once>{token.scopes}</p>"))
    loop = asyncio.new_event_loop()
    browser = Browser("flask", app, loop)
    try:
        assert browser.go("GET", "/signin?user=alice").status_code == 200
        fake_esi.sso.character = ALICE_1
        assert _text(browser.go("GET", "/who"), "who") == "Alice One"
        assert "scope=" not in browser.hops[0].headers["location"]  # no scope asked of EVE SSO
        assert _text(browser.go("GET", "/all"), "all") == "[91000001]"
        assert _text(browser.go("GET", "/once"), "once") == "()"
        assert [(token.scopes, token.refresh_token) for token in store.query()] == [
            ((), None)
        ]  # EVE SSO's way
    finally:
        browser.close()
        loop.close()
