"""RFC 8252 login: the loopback server receives the redirect; timeout, busy port and paste."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx2
import pytest
from attrs import evolve

from esi_auth.errors import LoginError
from esi_auth.login import LoginFlow
from esi_auth.loopback import login_with_browser
from testbed.servers import free_port
from tests.support.auth_support import WALLET_SCOPE, AuthSetup, make_setup
from tests.support.fixtures import FakeESIServer, ManualClock


@pytest.fixture
def setup(fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path) -> AuthSetup:
    setup = make_setup(fake_esi, esi_clock, tmp_path)
    setup.sso.config = evolve(setup.sso.config, callback_url=f"http://127.0.0.1:{free_port()}/callback")
    setup.login = LoginFlow(setup.store, setup.sso)
    return setup


def _browser(url: str) -> bool:
    """A browser: follows the SSO's redirect to the loopback callback."""
    assert httpx2.get(url, follow_redirects=True).status_code == 200
    return True


def _assert_port_freed(port: int) -> None:
    """Nothing listens any more, and a new server can bind the port."""
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))


def _port(setup: AuthSetup) -> int:
    return int(setup.sso.config.callback_url.split(":")[2].split("/")[0])


def test_browser_login_stores_the_token(setup: AuthSetup) -> None:
    shown: list[str] = []
    token = login_with_browser(
        setup.login, WALLET_SCOPE, open_browser=_browser, announce=shown.append, timeout=10
    )
    assert token.id is not None and setup.store.get(token.id) is not None
    assert shown and shown[0].startswith(setup.sso.config.authorize_url)
    _assert_port_freed(_port(setup))


def test_timeout_is_clean(setup: AuthSetup) -> None:
    with pytest.raises(LoginError, match=r"no login within 0.3 s"):
        login_with_browser(
            setup.login, WALLET_SCOPE, open_browser=lambda url: True, announce=lambda url: None, timeout=0.3
        )
    _assert_port_freed(_port(setup))


def test_busy_port_is_named(setup: AuthSetup) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", _port(setup)))
        taken.listen()
        with pytest.raises(LoginError, match=f"cannot listen on 127.0.0.1:{_port(setup)}"):
            login_with_browser(setup.login, WALLET_SCOPE, open_browser=_browser, announce=lambda url: None)


def test_paste_the_redirect_when_no_browser_opens(setup: AuthSetup) -> None:
    urls: list[str] = []

    def paste() -> str:
        return str(httpx2.get(urls[0], follow_redirects=False).headers["location"])

    token = login_with_browser(
        setup.login,
        WALLET_SCOPE,
        open_browser=lambda url: False,
        announce=urls.append,
        paste=paste,
        timeout=5,
    )
    assert token.character_id == setup.fake.sso.character.character_id
