"""token_required / tokens_required / single_use_token: every branch, sync, async and typer."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx2
import pexpect
import pytest
import typer
from typer.testing import CliRunner

from esi_auth import SQLTokenStore, SSOApp, SSOConfig, Token, TokenQuery
from esi_auth.decorators import TokenChoiceError, single_use_token, token_required, tokens_required
from esi_client.api.wallet import get_characters_character_id_wallet
from esi_fake._sso import Character
from testbed.servers import free_port
from tests.support.fixtures import ClientFactory, FakeESIServer, ManualClock

WALLET = "esi-wallet.read_character_wallet.v1"


@pytest.fixture
def app(fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path) -> SSOApp:
    client_id = f"decorator-app-{len(fake_esi.sso.apps)}"
    fake_esi.sso.apps[client_id] = None
    config = SSOConfig(
        client_id=client_id,
        login_url=fake_esi.url,
        callback_url=f"http://127.0.0.1:{free_port()}/callback",
    )
    app = SSOApp(
        config, SQLTokenStore(f"sqlite:///{tmp_path / 'd.sqlite'}", secrets="plaintext"), clock=esi_clock
    )
    app.logins = 0  # type: ignore[attr-defined]

    def browser(url: str) -> bool:
        app.logins += 1  # type: ignore[attr-defined]
        return httpx2.get(url, follow_redirects=True).status_code == 200

    app.browser_options = {"open_browser": browser, "announce": lambda url: None, "timeout": 10}
    return app


def _as(fake: FakeESIServer, character_id: int, name: str) -> None:
    fake.sso.character = Character(character_id, name, f"owner-{character_id}")


def test_none_stored_starts_a_login(app: SSOApp) -> None:
    @token_required(scopes=[WALLET], app=app)
    def run(token: Token) -> int:
        return token.character_id

    assert run() == 90000001
    assert app.logins == 1 and app.tokens().count() == 1  # type: ignore[attr-defined]


def test_one_stored_is_used(app: SSOApp) -> None:
    app.login_with_browser(WALLET)

    @token_required(scopes=WALLET, app=app)
    def run(token: Token) -> int:
        return token.character_id

    assert run() == 90000001 and app.logins == 1  # type: ignore[attr-defined]


def test_several_non_interactive_lists_them_and_character_id_picks(
    app: SSOApp, fake_esi: FakeESIServer
) -> None:
    app.login_with_browser(WALLET)
    _as(fake_esi, 90000002, "Second Pilot")
    app.login_with_browser(WALLET)

    @token_required(scopes=WALLET, app=app)
    def run(token: Token) -> int:
        return token.character_id

    with pytest.raises(TokenChoiceError, match=r"Second Pilot \(90000002\); Fake Pilot \(90000001\)"):
        run()
    assert run(character_id=90000001) == 90000001


def test_several_at_a_terminal_asks(app: SSOApp, fake_esi: FakeESIServer) -> None:
    app.login_with_browser(WALLET)
    _as(fake_esi, 90000002, "Second Pilot")
    app.login_with_browser(WALLET)
    script = Path(__file__).parent / "support" / "decorator_prompt.py"
    child = pexpect.spawn(
        sys.executable,
        [str(script), app.store.url, app.config.login_url, app.config.client_id],
        encoding="utf-8",
        timeout=60,
        cwd=str(script.parent.parent),
    )
    child.expect(r"Which character\? \[1-2\]")
    child.sendline("2")
    child.expect(r"chose (\d+)")
    assert child.match.group(1) == "90000001"  # newest first: 1 = Second Pilot, 2 = Fake Pilot
    child.close()


def test_new_always_logs_in(app: SSOApp) -> None:
    app.login_with_browser(WALLET)

    @token_required(scopes=WALLET, new=True, app=app)
    def run(token: Token) -> int:
        return token.id or 0

    assert run() != run()
    assert app.logins == 3  # type: ignore[attr-defined]


async def test_async_function_and_token_used_by_the_client(
    app: SSOApp, fake_esi: FakeESIServer, make_client: ClientFactory
) -> None:
    @token_required(scopes=WALLET, app=app)
    async def run(token: Token) -> float:
        client = make_client(auth=app.auth).with_token(token)
        balance: float = await get_characters_character_id_wallet.asyncio(token.character_id, client=client)
        await client.aclose()
        return balance

    assert isinstance(await run(), float)


def test_tokens_required_gets_a_query(app: SSOApp, fake_esi: FakeESIServer) -> None:
    app.login_with_browser(WALLET)
    _as(fake_esi, 90000002, "Second Pilot")
    app.login_with_browser([WALLET, "esi-skills.read_skills.v1"])
    app.login_with_browser("esi-skills.read_skills.v1")

    @tokens_required(scopes=WALLET, app=app)
    def run(tokens: TokenQuery) -> tuple[int, int]:
        return tokens.count(), tokens.filter(character_id=90000002).count()

    assert run() == (2, 1) and app.logins == 3  # type: ignore[attr-defined]


def test_single_use_token_is_not_stored(app: SSOApp, make_client: ClientFactory) -> None:
    @single_use_token(scopes=WALLET, app=app)
    def run(token: Token) -> float:
        client = make_client(auth=app.auth).with_token(token)
        return float(get_characters_character_id_wallet.sync(token.character_id, client=client))

    assert isinstance(run(), float)
    assert app.tokens().count() == 0


def test_typer_command(app: SSOApp, fake_esi: FakeESIServer) -> None:
    app.login_with_browser(WALLET)
    _as(fake_esi, 90000002, "Second Pilot")
    app.login_with_browser(WALLET)
    cli = typer.Typer()

    @cli.command()
    @token_required(scopes=WALLET, app=app)
    def whoami(token: Token, shout: bool = False) -> None:
        print(f"{token.character_name}{'!' if shout else ''}")

    result = CliRunner().invoke(cli, ["--character-id", "90000002", "--shout"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Second Pilot!"
    refused = CliRunner().invoke(cli, [])
    assert refused.exit_code != 0 and isinstance(refused.exception, TokenChoiceError)
