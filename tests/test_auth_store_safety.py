"""The store on SQLite and PostgreSQL: ids never reused, tokens known by identity, one app never
touches another's tokens, secrets never handed out as ciphertext nor kept in plaintext unasked,
atomic positions and logins, migrations from the schema before migrations."""

from __future__ import annotations

import inspect
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, text

from esi_auth import SSOApp
from esi_auth.cleanup import cleanup_token, cleanup_token_subset
from esi_auth.errors import AuthError, InvalidGrantError
from esi_auth.store.sql import SQLTokenStore
from esi_auth.token import Token
from esi_client import ESIClient
from esi_fake._sso import Character
from tests.support.auth_support import WALLET_SCOPE, make_setup
from tests.support.fixtures import ClientFactory, FakeESIServer, ManualClock


def _token(character_id: int, client_id: str = "app", created: float | None = None) -> Token:
    now = time.time() if created is None else created
    return Token(
        character_id=character_id,
        character_name=f"c{character_id}",
        owner_hash="o",
        scopes=("esi-a.v1",),
        client_id=client_id,
        access_token=f"access-{character_id}-{now}",
        refresh_token=f"refresh-{character_id}-{now}",
        expires_at=now + 1000,
        created_at=now,
        updated_at=now,
    )


def _in_threads(count: int, work: Callable[[], Any]) -> list[Any]:
    results: list[Any] = []
    barrier = threading.Barrier(count)

    def run() -> None:
        barrier.wait()
        try:
            results.append(work())
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_ids_are_never_reused(store_url: str) -> None:
    store = SQLTokenStore(store_url, secrets="plaintext")
    first, top = store.save(_token(1)), store.save(_token(2))
    store.delete(top.id or 0)
    again = store.save(_token(3))
    assert (again.id or 0) > (top.id or 0) > (first.id or 0)


def test_a_deleted_tokens_view_never_sends_another_token(
    fake_esi: FakeESIServer, esi_clock: ManualClock, store_url: str, tmp_path: Path
) -> None:
    setup = make_setup(fake_esi, esi_clock, tmp_path, url=store_url)
    setup.log_in()
    fake_esi.sso.character = Character(90000002, "Second Pilot", "owner-2")
    gone = setup.log_in()
    setup.store.delete(gone.id or 0)
    fake_esi.sso.character = Character(90000003, "Third Pilot", "owner-3")
    newer = setup.log_in()
    assert newer.id != gone.id
    with pytest.raises(InvalidGrantError, match="deleted"):
        setup.refresher.refresh(gone, force=True)
    impostor = setup.store.get(newer.id or 0)
    assert impostor is not None
    stale_view = Token(
        character_id=gone.character_id,
        character_name=gone.character_name,
        owner_hash=gone.owner_hash,
        scopes=gone.scopes,
        client_id=gone.client_id,
        access_token=gone.access_token,
        refresh_token=gone.refresh_token,
        expires_at=gone.expires_at,
        created_at=gone.created_at,
        id=newer.id,  # as if the id had been reused
    )
    with pytest.raises(InvalidGrantError):
        setup.refresher.refresh(stale_view, force=True)


def test_an_encrypted_store_without_its_key_touches_nothing(store_url: str) -> None:
    key = Fernet.generate_key()
    SQLTokenStore(store_url, secret_key=key).save(_token(1))
    with pytest.raises(AuthError, match="encrypted") as caught:
        SQLTokenStore(store_url, secrets="plaintext")
    assert "nothing was read or changed" in str(caught.value)
    with pytest.raises(AuthError, match="another key"):
        SQLTokenStore(store_url, secret_key=Fernet.generate_key())
    with pytest.raises(AuthError, match="choose where token secrets are kept"):
        SQLTokenStore(store_url)
    reopened = SQLTokenStore(store_url, secret_key=key)
    assert [t.access_token.startswith("access-1-") for t in reopened.query()] == [True]


def test_plaintext_is_an_explicit_choice(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(AuthError) as caught:
        SQLTokenStore(f"sqlite:///{tmp_path / 'a.sqlite'}")
    assert str(caught.value) == (
        f"the token store sqlite:///{tmp_path / 'a.sqlite'}: choose where token secrets are kept. Options: "
        "secret_key=... (a Fernet key you keep: ESI_SECRET_KEY or secret_key_file for the CLI), "
        "secrets=KeyringSecrets() (the system keyring), or secrets='plaintext' to store them "
        "unencrypted knowingly"
    )
    with caplog.at_level(logging.WARNING, logger="esi_auth"):
        SQLTokenStore(f"sqlite:///{tmp_path / 'b.sqlite'}", secrets="plaintext")
    told = [record.getMessage() for record in caplog.records if "plaintext" in record.getMessage()]
    where = f"the token store sqlite:///{tmp_path / 'b.sqlite'}"
    assert told == [f"token secrets in {where} are stored in plaintext (secrets='plaintext')"]


def test_a_loose_sqlite_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "loose.sqlite"
    SQLTokenStore(f"sqlite:///{path}", secrets="plaintext")
    path.chmod(0o644)
    SQLTokenStore(f"sqlite:///{path}", secrets="plaintext")
    assert path.stat().st_mode & 0o777 == 0o600


def test_concurrent_first_positions_are_distinct(store_url: str) -> None:
    store = SQLTokenStore(store_url, secrets="plaintext")
    positions = _in_threads(8, lambda: store.advance_position("job", 1000))
    assert sorted(positions) == list(range(8)), positions


def test_two_finishes_of_one_login_one_wins(store_url: str) -> None:
    store = SQLTokenStore(store_url, secrets="plaintext")
    store.add_pending_login("the-state", "verifier", ["esi-a.v1"], "app", time.time())
    taken = _in_threads(8, lambda: store.take_pending_login("the-state"))
    assert len([found for found in taken if isinstance(found, dict)]) == 1
    assert taken.count(None) == 7


def test_cleanup_visits_only_this_apps_tokens(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path
) -> None:
    mine = make_setup(fake_esi, esi_clock, tmp_path)
    theirs_app = make_setup(fake_esi, esi_clock, tmp_path)  # the same database, another client id
    mine.log_in()
    theirs = theirs_app.log_in()
    fake_esi.sso.fail_refresh = "invalid_grant"
    esi_clock.advance(1300)  # every token has expired: a visit would find theirs dead
    app = SSOApp(mine.sso.config, mine.store, clock=esi_clock)
    assert cleanup_token(app).visited == 1
    assert cleanup_token_subset(app, fraction=1).visited == 0  # mine was deleted just now
    assert mine.store.get(theirs.id or 0) is not None


def test_the_next_candidate_is_used_when_the_newest_is_dead(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path, make_client: ClientFactory
) -> None:
    from esi_client.api.wallet import get_characters_character_id_wallet

    setup = make_setup(fake_esi, esi_clock, tmp_path)
    older = setup.log_in()
    esi_clock.advance(1)
    newest = setup.log_in()
    esi_clock.advance(1300)  # both need a refresh
    fake_esi.sso.fail_refresh_for[newest.refresh_token or ""] = "invalid_grant"
    balance = get_characters_character_id_wallet.sync(older.character_id, client=make_client(auth=setup.auth))
    assert isinstance(balance, float)
    assert setup.store.get(newest.id or 0) is None and setup.store.get(older.id or 0) is not None


def test_a_single_use_token_is_refreshed_in_memory(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path, make_client: ClientFactory
) -> None:
    from esi_client.api.wallet import get_characters_character_id_wallet

    setup = make_setup(fake_esi, esi_clock, tmp_path)
    pending = setup.login.start(WALLET_SCOPE)
    import httpx2

    callback = httpx2.get(pending.url, follow_redirects=False).headers["location"]
    token = setup.login.finish(callback, store_token=False)
    assert token.id is None
    esi_clock.advance(1300)
    client = make_client(auth=setup.auth).with_token(token)
    assert isinstance(get_characters_character_id_wallet.sync(token.character_id, client=client), float)
    assert setup.store.query().count() == 0


def test_reprs_hide_every_secret(fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path) -> None:
    setup = make_setup(fake_esi, esi_clock, tmp_path, secret="the-client-secret")
    pending = setup.login.start(WALLET_SCOPE)
    import httpx2

    callback = httpx2.get(pending.url, follow_redirects=False).headers["location"]
    from urllib.parse import parse_qs, urlsplit

    code = parse_qs(urlsplit(callback).query)["code"][0]
    grant = setup.sso.exchange_code(code, None)
    store = SQLTokenStore("sqlite:///" + str(tmp_path / "p.sqlite"), secrets="plaintext")
    shown = "\n".join(
        [
            repr(grant),
            str(grant),
            repr(setup.sso.config),
            repr(store),
            repr(setup.store),
            repr(grant.to_token()),
        ]
    )
    for secret in (grant.access_token, grant.refresh_token or "", "the-client-secret"):
        assert secret not in shown
    password_store = SQLTokenStore.__repr__  # the repr of a URL store hides its password
    fake = object.__new__(SQLTokenStore)
    fake.url = "postgresql+psycopg://user:hunter2@db.example/esi"
    assert "hunter2" not in password_store(fake)


def test_migrates_a_store_made_before_migrations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = MetaData()
    tokens = Table(
        "esi_tokens",
        old,
        Column("id", Integer, primary_key=True),
        Column("character_id", Integer, nullable=False),
        Column("character_name", String(100), nullable=False),
        Column("owner_hash", String(200), nullable=False),
        Column("client_id", String(200), nullable=False),
        Column("scopes", Text, nullable=False),
        Column("access_token", Text),
        Column("refresh_token", Text),
        Column("expires_at", Float, nullable=False),
        Column("created_at", Float, nullable=False),
        Column("updated_at", Float, nullable=False),
    )
    Table(
        "esi_token_scopes",
        old,
        Column("token_id", Integer, primary_key=True),
        Column("scope", String(200), primary_key=True),
    )
    Table(
        "esi_cleanup_positions",
        old,
        Column("name", String(100), primary_key=True),
        Column("position", Integer),
    )
    Table(
        "esi_pending_logins",
        old,
        Column("state", String(200), primary_key=True),
        Column("code_verifier", Text),
        Column("scopes", Text, nullable=False),
        Column("client_id", String(200), nullable=False),
        Column("created_at", Float, nullable=False),
    )
    engine = create_engine(url)
    old.create_all(engine)
    with engine.begin() as db:
        for token_id in (1, 2):
            db.execute(
                tokens.insert().values(
                    id=token_id, character_id=token_id, character_name="old", owner_hash="o", client_id="app",
                    scopes="esi-a.v1", access_token=f"a{token_id}", refresh_token=f"r{token_id}",
                    expires_at=1.0, created_at=1.0, updated_at=1.0,
                )
            )  # fmt: skip
            db.execute(text("INSERT INTO esi_token_scopes VALUES (:id, 'esi-a.v1')"), {"id": token_id})
        db.execute(text("DELETE FROM esi_token_scopes WHERE token_id = 2"))
        db.execute(text("DELETE FROM esi_tokens WHERE id = 2"))
    engine.dispose()
    store = SQLTokenStore(url, secrets="plaintext")
    survivor = store.get(1)
    assert survivor is not None and survivor.refresh_token == "r1"
    assert store.query().require_scopes("esi-a.v1").count() == 1
    with store.engine.connect() as db:
        assert db.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"
    assert (store.save(_token(5)).id or 0) >= 2


def test_the_schema_head_is_the_newest_migration() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from esi_auth.store import migrate

    config = Config()
    config.set_main_option("script_location", str(Path(migrate.__file__).parent / "migrations"))
    assert ScriptDirectory.from_config(config).get_current_head() == migrate.HEAD


def test_the_sqlite_pool_holds_the_clients_concurrency(tmp_path: Path) -> None:
    """32 threads read 8 tokens 6 times each at once: every read is the token saved, none waits
    out the pool or reads another's row."""
    store = SQLTokenStore(f"sqlite:///{tmp_path / 'pool.sqlite'}", secrets="plaintext")
    saved = {token.id: _facts(token) for token in (store.save(_token(n)) for n in range(1, 9))}

    def read_all() -> list[tuple[Any, ...]]:
        found = [store.get(token_id or 0) for token_id in list(saved) * 6]
        return [_facts(token) for token in found if token is not None]

    results = _in_threads(32, read_all)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert results == [list(saved.values()) * 6] * 32
    default_concurrency = inspect.signature(ESIClient).parameters["max_concurrency"].default
    assert store.engine.pool.size() >= default_concurrency  # type: ignore[attr-defined]


def _facts(token: Token) -> tuple[Any, ...]:
    return (token.id, token.character_id, token.access_token, token.refresh_token, token.expires_at)


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    from testbed.servers import free_port

    with pytest.raises(AuthError) as caught:
        SQLTokenStore(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none", secrets="plaintext")
    message = str(caught.value)
    assert "cannot be opened" in message and "\n" not in message


def test_another_apps_token_is_refused_by_the_cli(
    fake_esi: FakeESIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from esi_cli.app import app as cli

    fake_esi.sso.apps["other-app"] = None
    store_url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    store = SQLTokenStore(store_url, secrets="plaintext")
    other = store.save(_token(1, client_id="other-app"))
    for name, value in {
        "ESI_CONFIG": os.devnull,
        "ESI_CLIENT_ID": "cli-app",
        "ESI_STORE": store_url,
        "ESI_SECRETS": "plaintext",
        "ESI_LOGIN_URL": fake_esi.url,
    }.items():
        monkeypatch.setenv(name, value)
    for command in (["tokens", "remove", str(other.id)], ["tokens", "show", str(other.id)]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code != 0 and "other-app" in result.output, result.output
    assert store.get(other.id or 0) is not None


def test_config_show_hides_the_database_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from esi_cli.app import app as cli

    monkeypatch.setenv("ESI_CONFIG", os.devnull)
    monkeypatch.setenv("ESI_STORE", "postgresql+psycopg://esi:hunter2@db.example/esi")
    monkeypatch.setenv("ESI_SECRET_KEY", Fernet.generate_key().decode())
    result = CliRunner().invoke(cli, ["config", "show"])
    assert result.exit_code == 0 and "hunter2" not in result.output and "db.example" in result.output
    assert "secret_key = (set)" in result.output


def test_cli_errors_keep_bracketed_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from esi_cli.app import app as cli

    monkeypatch.setenv("ESI_CONFIG", os.devnull)
    result = CliRunner().invoke(
        cli, ["call", "DeleteCharactersCharacterIdContacts", "--character-id", "1", "--contact-ids", "x"]
    )
    assert result.exit_code == 2 and "array[integer]" in result.output, result.output


def test_esi_store_upgrade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from esi_cli.app import app as cli

    monkeypatch.setenv("ESI_CONFIG", os.devnull)
    monkeypatch.setenv("ESI_STORE", f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    first = CliRunner().invoke(cli, ["store", "upgrade"])
    assert first.exit_code == 0 and "from revision (empty) to 0003" in first.output, first.output
    again = CliRunner().invoke(cli, ["store", "upgrade"])
    assert again.exit_code == 0 and "up to date" in again.output


def test_a_database_outage_is_one_line_in_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from esi_cli.app import app as cli
    from testbed.servers import free_port

    monkeypatch.setenv("ESI_CONFIG", os.devnull)
    monkeypatch.setenv("ESI_CLIENT_ID", "cli-app")
    monkeypatch.setenv("ESI_STORE", f"postgresql+psycopg://esi@127.0.0.1:{free_port()}/esi")
    monkeypatch.setenv("ESI_SECRETS", "plaintext")
    result = CliRunner().invoke(cli, ["tokens", "list"])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot be opened" in lines[0], result.output


class _Reversed:
    """A SecretBox of the user's own (its own mode name): secrets stored reversed."""

    mode = "reversed"

    def seal(self, token_id: int, kind: str, value: str | None) -> str | None:
        return None if value is None else value[::-1]

    def open(self, token_id: int, kind: str, stored: str | None) -> str | None:
        return None if stored is None else stored[::-1]

    def forget(self, token_id: int) -> None:
        return None


def _secrets_options(mode: str, tmp_path: Path) -> dict[str, Any]:
    from keyrings.alt.file import PlaintextKeyring

    from esi_auth.store.secrets import KeyringSecrets

    if mode == "keyring":
        backend = PlaintextKeyring()
        backend.file_path = str(tmp_path / "keyring.cfg")
        return {"secrets": KeyringSecrets(backend, allow_insecure=True)}
    if mode == "encrypted":
        return {"secret_key": Fernet.generate_key()}
    return {"secrets": _Reversed() if mode == "reversed" else "plaintext"}


@pytest.mark.parametrize(
    ("made", "opened", "how"),
    [
        ("encrypted", "plaintext",
         "open it with its key (secret_key=..., ESI_SECRET_KEY or secret_key_file for the CLI)"),
        ("keyring", "encrypted", "open it with secrets=KeyringSecrets()"),
        ("plaintext", "keyring", "open it with secrets='plaintext'"),
        ("reversed", "plaintext", "open it with the SecretBox it was made with (reversed)"),
    ],
)  # fmt: skip
def test_a_store_opened_in_another_secrets_mode_says_how_to_open_it(
    tmp_path: Path, made: str, opened: str, how: str
) -> None:
    url = f"sqlite:///{tmp_path / 'modes.sqlite'}"
    saved = SQLTokenStore(url, **_secrets_options(made, tmp_path)).save(_token(1))
    with pytest.raises(AuthError) as caught:
        SQLTokenStore(url, **_secrets_options(opened, tmp_path))
    assert str(caught.value).endswith(
        f"keeps its secrets {made}, not {opened}: {how}; nothing was read or changed"
    ), str(caught.value)
    reopened = SQLTokenStore(url, **_secrets_options(made, tmp_path)) if made != "encrypted" else None
    if reopened is not None:
        assert [t.refresh_token for t in reopened.query()] == [saved.refresh_token]


@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("encrypted", "encrypted"),
        ("keyring", "the system keyring"),
        ("plaintext", "plaintext"),
        ("reversed", "reversed"),
    ],
)
def test_a_store_describes_where_its_secrets_are(tmp_path: Path, mode: str, said: str) -> None:
    path = tmp_path / "described.sqlite"
    store = SQLTokenStore(f"sqlite:///{path}", **_secrets_options(mode, tmp_path))
    assert store.describe() == f"sqlite:///{path} (secrets: {said})"


def test_a_tokens_refresh_lock_excludes_every_store_on_the_database_and_is_let_go(store_url: str) -> None:
    """Two stores on one database in one process (two clients, two apps) exclude each other per
    token, other tokens go on, and a lock let go is free for any other session (a leftover
    PostgreSQL advisory lock would stall every host's refresh of that token)."""
    first = SQLTokenStore(store_url, secrets="plaintext")
    second = SQLTokenStore(store_url, secrets="plaintext")
    inside, leave, events = threading.Event(), threading.Event(), []

    def hold() -> None:
        with first.lock(7):
            events.append("first in")
            inside.set()
            assert leave.wait(30)
            events.append("first out")

    def take() -> None:
        with second.lock(7):
            events.append("second in")

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(30)
    with second.lock(8):  # another token's lock is not held up
        events.append("other token")
    taker = threading.Thread(target=take)
    taker.start()
    taker.join(0.5)  # a lock that excludes keeps it out however long this is
    leave.set()
    holder.join(30)
    taker.join(30)
    assert events == ["first in", "other token", "first out", "second in"]
    if store_url.startswith("sqlite"):
        database = Path(store_url.removeprefix("sqlite:///"))
        lock_file = database.with_name(database.name + "-refresh.lock")  # every version's name
        assert (lock_file.stat().st_mode & 0o777) == (database.stat().st_mode & 0o777) == 0o600
        return
    with create_engine(store_url).connect() as other_session:
        assert other_session.execute(text("SELECT pg_try_advisory_lock(29285, 7)")).scalar() is True
