"""The `esi` CLI: config precedence, login, tokens, ops, call (typed, paged, authenticated), cleanup."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from esi_cli.app import app
from tests.conftest import STORE_KEY
from tests.support.fixtures import FakeESIServer

runner = CliRunner()
WALLET = "esi-wallet.read_character_wallet.v1"


def esi(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_config_precedence_file_env_flag(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    Path(cli_env["ESI_CONFIG"]).write_text(
        'client_id = "from-file"\ncontact = "file@example.com"\nclient_secret = "hush"\n'
    )
    monkeypatch.delenv("ESI_CLIENT_ID")
    monkeypatch.setenv("ESI_CONTACT", "env@example.com")
    result = esi("--store", "sqlite:///flag.sqlite", "config", "show")
    assert result.exit_code == 0, result.output
    assert "client_id = from-file" in result.output
    assert "contact = env@example.com" in result.output
    assert "store = sqlite:///flag.sqlite" in result.output
    assert "client_secret = (set)" in result.output and "hush" not in result.output


def test_login_tokens_and_authenticated_call(cli_env: dict[str, str]) -> None:
    login = esi("login", "--scopes", WALLET, "--scopes", "esi-skills.read_skills.v1")
    assert login.exit_code == 0, login.output
    assert "Logged in as Fake Pilot (90000001), 2 scopes; stored in sqlite:///" in login.output
    listing = esi("tokens", "list")
    assert "\tFake Pilot (90000001)\t2\t" in listing.output
    shown = esi("tokens", "show", "1")
    assert "owner_hash: owner-hash-1" in shown.output and WALLET in shown.output
    wallet = esi("call", "GetCharactersCharacterIdWallet", "--character-id", "90000001", "--json")
    assert wallet.exit_code == 0, wallet.output
    assert isinstance(json.loads(wallet.stdout), float)
    assert esi("tokens", "refresh", "1").exit_code == 0
    revoked = esi("tokens", "revoke", "1")
    assert revoked.exit_code == 0 and "Revoked token 1" in revoked.output
    assert "No stored tokens in sqlite:///" in esi("tokens", "list").output
    from esi_auth import SQLTokenStore

    assert SQLTokenStore(cli_env["ESI_STORE"], secret_key=STORE_KEY).query().count() == 0


def test_missing_token_is_one_line(cli_env: dict[str, str]) -> None:
    result = esi("call", "GetCharactersCharacterIdWallet", "--character-id", "123")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: GetCharactersCharacterIdWallet: no stored token for character 123; "
        f"log in with the scope it needs: `esi login --scopes {WALLET}`"
    ]


def test_public_call_typed_and_paged(cli_env: dict[str, str], fake_esi: FakeESIServer) -> None:
    status = esi("call", "GetStatus", "--json")
    assert status.exit_code == 0 and json.loads(status.stdout)["players"] > 0
    orders = esi("call", "get_markets_region_id_orders", "--region-id", "10000002", "--all-pages", "--json")
    assert orders.exit_code == 0, orders.output
    assert len(json.loads(orders.stdout)) == fake_esi.state.market_pages * fake_esi.state.market_page_size
    table = esi("call", "GetMarketsRegionIdOrders", "--region-id", "10000002", "--order-type", "sell")
    lines = table.output.splitlines()  # piped: a header line, then one whole line a row
    assert "order_id" in lines[0].split("\t") and len(lines) == 1 + 1000
    bad = esi("call", "GetMarketsRegionIdOrders", "--region-id", "the-forge")
    assert bad.exit_code == 2 and "--region-id: expected integer" in bad.output
    unknown = esi("call", "GetStatus", "--colour", "red")
    assert unknown.exit_code == 2 and "GetStatus has no parameter '--colour'" in unknown.output
    missing = esi("call", "NoSuchOperation")
    assert missing.exit_code == 2 and "no ESI operation 'NoSuchOperation'" in missing.output


def test_post_with_a_body(cli_env: dict[str, str]) -> None:
    names = esi("call", "PostUniverseNames", "--body", "[34, 35]", "--json")
    assert names.exit_code == 0, names.output
    assert isinstance(json.loads(names.stdout), list)


def test_ops_filter(cli_env: dict[str, str]) -> None:
    result = esi("ops", "wallet")
    assert "GetCharactersCharacterIdWallet" in result.output and "GetStatus" not in result.output


def test_cleanup_command(cli_env: dict[str, str]) -> None:
    assert esi("login", "--scopes", WALLET).exit_code == 0
    result = esi("cleanup")
    assert result.exit_code == 0 and "visited 1" in result.output
    assert "deleted 0" in esi("cleanup", "--callbacks").output
    assert "visited 1" in esi("cleanup", "--subset", "1").output


def test_no_secret_in_cli_output(cli_env: dict[str, str]) -> None:
    outputs = [esi("login", "--scopes", WALLET).output]
    outputs += [
        esi(*command).output for command in (["tokens", "list"], ["tokens", "show", "1"], ["config", "show"])
    ]
    from esi_auth import SQLTokenStore

    token = SQLTokenStore(cli_env["ESI_STORE"], secret_key=STORE_KEY).query().first()
    assert token is not None
    text = "\n".join(outputs)
    assert token.access_token not in text and (token.refresh_token or "") not in text


def test_remove_and_debug(cli_env: dict[str, str]) -> None:
    assert esi("login", "--scopes", WALLET).exit_code == 0
    removed = esi("tokens", "remove", "1")
    assert removed.exit_code == 0 and "Removed token 1" in removed.output
    gone = esi("tokens", "remove", "1")
    assert gone.exit_code == 2 and gone.output.strip() == "error: no stored token 1"
    quiet = esi("call", "GetCharactersCharacterIdWallet", "--character-id", "5")
    assert quiet.exit_code == 1 and "Traceback" not in quiet.output
    loud = esi("--debug", "call", "GetCharactersCharacterIdWallet", "--character-id", "5")
    assert loud.exit_code == 1 and type(loud.exception).__name__ == "NoTokenError"


def test_calls_share_the_fleets_limits_when_configured(
    cli_env: dict[str, str], redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ESI_LIMITS (or `limits = "redis://..."` in the config) puts the CLI's limits in Redis,
    beside the app's workers."""
    import redis

    shared = f"{redis_url.rsplit('/', 1)[0]}/8"
    monkeypatch.setenv("ESI_LIMITS", shared)
    assert esi("call", "GetStatus", "--json").exit_code == 0
    keys = redis.Redis.from_url(shared).keys("esikit:limits:*")
    assert any(b":rate:status:" in key for key in keys), keys
    monkeypatch.setenv("ESI_LIMITS", "memcached://nowhere")
    wrong = esi("call", "GetStatus", "--json")
    assert wrong.exit_code == 2 and "limits" in wrong.output


def test_a_browser_command_that_fails_ends_the_login_at_once(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ESI_BROWSER is broken (it exits 3 at once): the login says so instead of waiting out its
    five minutes for a callback that cannot come."""
    import sys
    import time

    monkeypatch.setenv("ESI_BROWSER", f"{sys.executable} -c 'import sys; sys.exit(3)'")
    started = time.monotonic()
    login = esi("login", "--scopes", WALLET)
    assert login.exit_code != 0 and time.monotonic() - started < 60  # the login's own wait is 300 s
    assert "the browser command exited with status 3 before the login finished" in login.output
