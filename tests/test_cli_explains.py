"""A CLI that explains itself: each operation's help, scopes as words checked against the spec,
a refused login that fails at once, one-line errors for missing extras and non-specs, whole
tab-separated tables in a pipe, and the fake's banner saying how to point a program at it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from esi_cli.app import app
from tests.support.fixtures import FakeESIServer

runner = CliRunner()
WALLET = "esi-wallet.read_character_wallet.v1"
SKILLS = "esi-skills.read_skills.v1"


def esi(*args: str) -> Any:
    return runner.invoke(app, list(args))


@pytest.mark.parametrize(
    "how", [("call", "GetMarketsRegionIdOrders", "--help"), ("ops", "show", "get_markets_region_id_orders")]
)
def test_an_operations_help_lists_its_parameters(cli_env: dict[str, str], how: tuple[str, ...]) -> None:
    shown = esi(*how)
    assert shown.exit_code == 0, shown.output
    text = shown.output
    for expected in (
        "GET /markets/{region_id}/orders",
        "--region-id",
        "--order-type",
        "one of buy, sell, all",
        "--type-id",
        "list[MarketsRegionIdOrdersGetItem]",
        "from esi_client.api.market import get_markets_region_id_orders",
        "market-order",
        "esi call GetMarketsRegionIdOrders --region-id REGION_ID",
    ):
        assert expected in text, expected


def test_a_bodys_help_lists_its_fields(cli_env: dict[str, str]) -> None:
    shown = esi("call", "PostCharactersCharacterIdFittings", "--help")
    assert shown.exit_code == 0, shown.output
    assert "--body" in shown.output and "ship_type_id: int" in shown.output
    assert "esi-fittings.write_fittings.v1" in shown.output
    generic = esi("call", "--help")
    assert generic.exit_code == 0 and "--body JSON" in generic.output


def test_scopes_as_separate_words(cli_env: dict[str, str]) -> None:
    login = esi("login", "--scopes", WALLET, SKILLS)
    assert login.exit_code == 0, login.output
    assert "2 scopes" in login.output
    listed = esi("tokens", "list").output.splitlines()
    assert listed[0].split("\t") == ["id", "character", "scopes", "expires in", "store"]
    assert listed[1].split("\t")[1:3] == ["Fake Pilot (90000001)", "2"]


def test_one_scope_is_one_scope(cli_env: dict[str, str]) -> None:
    login = esi("login", "-s", WALLET)
    assert "1 scope;" in login.output


def test_an_unknown_scope_fails_before_any_login(cli_env: dict[str, str], fake_esi: FakeESIServer) -> None:
    started = time.monotonic()
    refused = esi("login", "--scopes", "esi-wallet.read_character_walet.v1")
    assert refused.exit_code == 2
    assert f"did you mean {WALLET}" in refused.output
    assert time.monotonic() - started < 10
    assert fake_esi.state.stats.requests == 0


def test_a_refused_client_id_fails_at_once_with_sso_reason(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESI_CLIENT_ID", "never-registered")
    started = time.monotonic()
    refused = esi("login", "--scopes", WALLET, "--timeout", "300")
    assert refused.exit_code == 1
    assert "EVE SSO refused the login" in refused.output and "Unknown client_id" in refused.output
    assert time.monotonic() - started < 30  # not the login's 300 s


def test_a_value_the_spec_refuses_exits_2_sending_nothing(
    cli_env: dict[str, str], fake_esi: FakeESIServer
) -> None:
    bad = esi("call", "GetMarketsRegionIdOrders", "--region-id", "10000002", "--order-type", "both")
    assert bad.exit_code == 2
    assert "order_type='both' is refused by the spec" in bad.output
    assert fake_esi.state.stats.requests == 0


def test_a_dead_grant_in_the_cli_says_the_token_was_removed(
    cli_env: dict[str, str], fake_esi: FakeESIServer
) -> None:
    assert esi("login", "-s", WALLET).exit_code == 0
    fake_esi.sso.fail_refresh = "invalid_grant"
    refreshed = esi("tokens", "refresh", "1")
    assert refreshed.exit_code == 1
    assert "Fake Pilot (90000001)" in refreshed.output and "removed from the store" in refreshed.output
    assert "No stored tokens" in esi("tokens", "list").output


def test_a_missing_extra_is_one_line(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openapi_python_client", None)
    result = esi("generate", "--output", "/nonexistent")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        "error: this needs the [generate] extra (openapi_python_client is not installed): "
        "pip install 'esikit[generate]'"
    ]


def test_a_json_file_that_is_no_spec_says_so(cli_env: dict[str, str], tmp_path: Path) -> None:
    not_spec = tmp_path / "package.json"
    not_spec.write_text(json.dumps({"name": "my-app", "version": "1.0.0"}))
    result = esi("generate", "--spec", str(not_spec), "--output", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "not an OpenAPI 3.x document" in result.output and "--update-pin" not in result.output


def test_the_wheels_pin_is_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed, `--update-pin` moves the user's own pin, never the file in site-packages."""
    from esi_generator import pin as pins

    shipped = tmp_path / "site-packages" / "esi_generator" / "pin.toml"
    shipped.parent.mkdir(parents=True)
    original = 'compatibility_date = "2025-12-16"\nurl = "https://x/{compatibility_date}"\nsha256 = "aa"\n'
    shipped.write_text(original)
    monkeypatch.setattr(pins, "SHIPPED_PIN_PATH", shipped)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    moved = pins.update_pin(pins.load_pin(shipped), compatibility_date="2026-08-04", sha256="bb")
    assert shipped.read_text() == original
    assert moved.path == tmp_path / "config" / "esikit" / "pin.toml"
    assert (moved.compatibility_date, moved.sha256) == ("2026-08-04", "bb")


def test_the_fake_says_how_to_point_a_program_at_it(spec_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "esi_cli", "fake-server", "--port", "0", "--spec", str(spec_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={"ESI_CONFIG": "/dev/null", "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6)]
    finally:
        process.terminate()
        process.wait(timeout=20)
    banner = "".join(lines)
    url = banner.split(" on ", 1)[1].split()[0]
    assert url.startswith("http://127.0.0.1:")
    assert f"export ESI_BASE_URL={url} ESI_LOGIN_URL={url}" in banner
    assert f'base_url="{url}"' in banner and f'login_url="{url}"' in banner
