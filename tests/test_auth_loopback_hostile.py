"""The loopback login cannot be hijacked or hung: only the redirect carrying the expected state
ends it, idle connections do not hold it past its deadline, IPv6 loopback works, and the page
says "Logged in" only once the login is checked."""

from __future__ import annotations

import socket
import threading
import time
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


def _setup(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path, host: str = "127.0.0.1"
) -> AuthSetup:
    setup = make_setup(fake_esi, esi_clock, tmp_path)
    setup.sso.config = evolve(setup.sso.config, callback_url=f"http://{host}:{free_port()}/callback")
    setup.login = LoginFlow(setup.store, setup.sso)
    return setup


def test_a_stray_request_does_not_end_the_login(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path
) -> None:
    setup = _setup(fake_esi, esi_clock, tmp_path)
    pages: list[tuple[int, str]] = []

    def browser(url: str) -> bool:
        callback = setup.sso.config.callback_url
        for stray in (callback, f"{callback}?code=forged&state=not-ours", f"{callback}?error=access_denied"):
            answer = httpx2.get(stray)  # any web page can make the browser send these
            pages.append((answer.status_code, answer.text))
        assert httpx2.get(url, follow_redirects=True).status_code == 200
        return True

    token = login_with_browser(
        setup.login, WALLET_SCOPE, open_browser=browser, announce=lambda u: None, timeout=10
    )
    assert token.id is not None
    assert [status for status, _ in pages] == [400, 400, 400]
    assert all("Logged in" not in text for _, text in pages)


def test_an_idle_connection_does_not_hold_the_login(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path
) -> None:
    setup = _setup(fake_esi, esi_clock, tmp_path)
    port = int(setup.sso.config.callback_url.split(":")[2].split("/")[0])
    idle: list[socket.socket] = []

    def preconnect(url: str) -> bool:
        connection = socket.create_connection(("127.0.0.1", port))
        idle.append(connection)  # a browser's speculative connection that never sends
        return True

    started = time.monotonic()
    with pytest.raises(LoginError, match="no login within 1 s"):
        login_with_browser(
            setup.login, WALLET_SCOPE, open_browser=preconnect, announce=lambda u: None, timeout=1
        )
    assert time.monotonic() - started < 5
    for connection in idle:
        connection.close()


def test_an_ipv6_loopback_callback(fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path) -> None:
    setup = _setup(fake_esi, esi_clock, tmp_path, host="[::1]")

    def browser(url: str) -> bool:
        location = httpx2.get(url, follow_redirects=False).headers["location"]
        assert location.startswith("http://[::1]:")
        assert httpx2.get(location).status_code == 200
        return True

    token = login_with_browser(
        setup.login, WALLET_SCOPE, open_browser=browser, announce=lambda u: None, timeout=10
    )
    assert token.id is not None


def test_logged_in_is_shown_only_after_the_check(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path
) -> None:
    setup = _setup(fake_esi, esi_clock, tmp_path)
    shown: list[str] = []

    def browser(url: str) -> bool:
        location = httpx2.get(url, follow_redirects=False).headers["location"]
        fake_esi.sso._codes.clear()  # the code is gone by the time it is exchanged
        shown.append(httpx2.get(location).text)
        return True

    with pytest.raises(LoginError, match="code exchange failed"):
        login_with_browser(
            setup.login, WALLET_SCOPE, open_browser=browser, announce=lambda u: None, timeout=10
        )
    assert shown and "Logged in" not in shown[0] and "failed" in shown[0]


def test_an_sso_error_with_brackets_is_reported_as_text(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path
) -> None:
    setup = _setup(fake_esi, esi_clock, tmp_path)

    def browser(url: str) -> bool:
        from urllib.parse import parse_qs, urlsplit

        state = parse_qs(urlsplit(url).query)["state"][0]
        threading.Thread(
            target=httpx2.get, args=(f"{setup.sso.config.callback_url}?error=[/]&state={state}",), daemon=True
        ).start()
        return True

    with pytest.raises(LoginError, match=r"refused the login: \[/\]"):
        login_with_browser(
            setup.login, WALLET_SCOPE, open_browser=browser, announce=lambda u: None, timeout=10
        )
