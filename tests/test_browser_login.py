"""`esi login` driven through a real headless browser (Debian's Chromium via Playwright): the
browser opens the fake SSO's page, clicks Authorize, is sent to the loopback callback, and the
CLI finishes with the token stored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from esi_auth import SQLTokenStore
from testbed.servers import free_port, require_binary
from tests.support.fixtures import FakeESIServer
from tests.support.no_silent_skips import skip_or_fail

WALLET = "esi-wallet.read_character_wallet.v1"


@pytest.mark.slow
def test_esi_login_through_headless_chromium(fake_esi: FakeESIServer, tmp_path: Path) -> None:
    require_binary("chromium")
    try:
        import playwright  # noqa: F401  (a dev dependency; the test drives it in a subprocess)
    except ImportError:
        skip_or_fail("playwright is not installed (a dev dependency)")
    fake_esi.sso.apps["browser-app"] = None
    fake_esi.sso.auto_approve = False  # the page with the Authorize button
    store_url = f"sqlite:///{tmp_path / 'tokens.sqlite'}"
    env = {
        **os.environ,
        "ESI_CONFIG": os.devnull,
        "ESI_CLIENT_ID": "browser-app",
        "ESI_STORE": store_url,
        "ESI_SECRETS": "plaintext",
        "ESI_LOGIN_URL": fake_esi.url,
        "ESI_BASE_URL": fake_esi.url,
        "ESI_CALLBACK_URL": f"http://127.0.0.1:{free_port()}/callback",
        "ESI_BROWSER": f"{sys.executable} {Path(__file__).parent / 'support' / 'chromium_browser.py'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "esi_cli", "login", "--scopes", WALLET, "--timeout", "90"],
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Logged in as Fake Pilot (90000001)" in result.stdout
    tokens = SQLTokenStore(store_url, secrets="plaintext").query().all()
    assert [(t.character_id, t.scopes) for t in tokens] == [(90000001, (WALLET,))]
