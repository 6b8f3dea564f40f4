"""A locals-capturing error reporter (Sentry, rich's show_locals) never records a token: every
frame of a refresh that fails after SSO answered holds only masked secrets."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest

from esi_auth import TokenValidationError
from esi_auth.refresh import TokenRefresher
from esi_auth.secret import Secret, masked
from esi_auth.sso import SSOClient
from esi_client.clock import SystemClock
from tests.support.auth_support import make_setup
from tests.support.fixtures import FakeESIServer


def test_a_failed_refresh_reports_no_token_in_its_locals(fake_esi: FakeESIServer, tmp_path: Path) -> None:
    setup = make_setup(fake_esi, SystemClock(), tmp_path)
    token = setup.log_in()
    before = (token.refresh_token, token.access_token)
    fake_esi.sso.jwks_fail = True  # SSO answers (a rotated token); validating it then fails
    fresh_process = TokenRefresher(setup.store, SSOClient(setup.sso.config))
    with pytest.raises(TokenValidationError) as raised:
        fresh_process.refresh(token, force=True)
    fake_esi.sso.jwks_fail = False
    report = "".join(traceback.TracebackException.from_exception(raised.value, capture_locals=True).format())
    kept = setup.store.get(token.id or 0)
    assert kept is not None and kept.refresh_token  # the rotated one, kept in the store
    secrets = {*before, kept.refresh_token, kept.access_token}
    assert "rotated" in report or "answer" in report  # the frames that held them were captured
    for secret in secrets:
        assert secret and secret not in report
    assert "<secret:" in report


def test_a_secret_is_a_string_with_a_masked_repr() -> None:
    value = masked("refresh-token-value")
    assert isinstance(value, Secret) and value == "refresh-token-value" and str(value) == value
    assert "refresh-token-value" not in repr(value) and "refresh-token-value" not in repr(
        [value, {"t": value}]
    )
    assert masked(None) is None and masked(value) is value
