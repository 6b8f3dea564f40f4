"""Schema migrations of the token store: serialised across processes on SQLite as on PostgreSQL,
nothing migrated in a store that refuses to open, and a store newer than this esikit refused
with a message that says what to do."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, inspect, text

from esi_auth.errors import AuthError
from esi_auth.store import migrate
from esi_auth.store.sql import SQLTokenStore
from esi_auth.token import Token

OPENERS = 6


def _open_when_all_are_ready(url: str, barrier: Any, results: Any) -> None:
    barrier.wait(60)  # every process has imported everything: they open at once
    try:
        SQLTokenStore(url, secrets="plaintext")
        results.put("ok")
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")


def _open_together(url: str) -> list[str]:
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(OPENERS), spawn.Queue()
    processes = [
        spawn.Process(target=_open_when_all_are_ready, args=(url, barrier, results)) for _ in range(OPENERS)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(60)
    return outcomes


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            return migrate.current_revision(db)
    finally:
        engine.dispose()


@pytest.mark.parametrize("round_", range(3))
def test_processes_opening_a_new_store_at_once_all_succeed(store_url: str, round_: int) -> None:
    assert _open_together(store_url) == ["ok"] * OPENERS
    assert _revision(store_url) == migrate.HEAD


def _old_store(url: str, access_token: str) -> None:
    """A store as esikit made it before migrations existed: the baseline's tables, one token."""
    engine = create_engine(url)
    with engine.begin() as db:
        db.execute(
            text(
                "CREATE TABLE esi_tokens (id INTEGER PRIMARY KEY, character_id INTEGER NOT NULL,"
                " character_name VARCHAR(100) NOT NULL, owner_hash VARCHAR(200) NOT NULL,"
                " client_id VARCHAR(200) NOT NULL, scopes TEXT NOT NULL, access_token TEXT,"
                " refresh_token TEXT, expires_at FLOAT NOT NULL, created_at FLOAT NOT NULL,"
                " updated_at FLOAT NOT NULL)"
            )
        )
        db.execute(
            text(
                "CREATE TABLE esi_token_scopes (token_id INTEGER NOT NULL, scope VARCHAR(200) NOT NULL,"
                " PRIMARY KEY (token_id, scope))"
            )
        )
        db.execute(
            text("CREATE TABLE esi_cleanup_positions (name VARCHAR(100) PRIMARY KEY, position INTEGER)")
        )
        db.execute(
            text(
                "CREATE TABLE esi_pending_logins (state VARCHAR(200) PRIMARY KEY, code_verifier TEXT,"
                " scopes TEXT NOT NULL, client_id VARCHAR(200) NOT NULL, created_at FLOAT NOT NULL)"
            )
        )
        db.execute(
            text(
                "INSERT INTO esi_tokens VALUES (1, 7, 'old', 'o', 'app', 'esi-a.v1', :access, :access,"
                " 1.0, 1.0, 1.0)"
            ),
            {"access": access_token},
        )
        db.execute(text("INSERT INTO esi_token_scopes VALUES (1, 'esi-a.v1')"))
    engine.dispose()


def test_processes_upgrading_an_old_store_at_once_all_succeed(store_url: str) -> None:
    _old_store(store_url, "plain-old-token")
    assert _open_together(store_url) == ["ok"] * OPENERS
    assert _revision(store_url) == migrate.HEAD
    survivor = SQLTokenStore(store_url, secrets="plaintext").get(1)
    assert survivor is not None and survivor.refresh_token == "plain-old-token"


_LOCK_WAITERS = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_an_upgrade_waits_for_the_postgres_migration_lock_and_then_releases_it(store_url: str) -> None:
    """Hosts upgrading one PostgreSQL store take turns (an advisory lock), and the lock is let go
    after, or the next esikit to upgrade it would wait for ever."""
    _old_store(store_url, "plain-old-token")
    holder = create_engine(store_url)
    opened: list[SQLTokenStore] = []
    try:
        with holder.connect() as held:
            held.execute(text("SELECT pg_advisory_lock(:key)"), {"key": migrate._MIGRATION_LOCK})
            held.commit()
            opener = threading.Thread(
                target=lambda: opened.append(SQLTokenStore(store_url, secrets="plaintext"))
            )
            opener.start()
            deadline = time.monotonic() + 60
            while opener.is_alive() and held.execute(text(_LOCK_WAITERS)).scalar() == 0:
                assert time.monotonic() < deadline, "the opener neither waited for the lock nor finished"
                held.rollback()
                time.sleep(0.02)
            assert opener.is_alive(), "the upgrade ran while another held the migration lock"
            assert _revision(store_url) == migrate.BASELINE
            held.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": migrate._MIGRATION_LOCK})
            held.commit()
        opener.join(60)
        assert len(opened) == 1 and _revision(store_url) == migrate.HEAD
        with holder.connect() as after:
            took = after.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": migrate._MIGRATION_LOCK})
            assert took.scalar() is True, "the upgrade kept the migration lock"
            after.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": migrate._MIGRATION_LOCK})
            after.commit()
    finally:
        holder.dispose()


def test_a_store_that_refuses_to_open_migrates_nothing(store_url: str) -> None:
    _old_store(store_url, Fernet(Fernet.generate_key()).encrypt(b"secret").decode())
    with pytest.raises(AuthError, match="keeps its secrets encrypted, not plaintext"):
        SQLTokenStore(store_url, secrets="plaintext")
    engine = create_engine(store_url)
    try:
        assert not inspect(engine).has_table("alembic_version")
        assert not inspect(engine).has_table("esi_store_meta")
    finally:
        engine.dispose()


def _made_newer(url: str) -> None:
    """A store this esikit made, then upgraded by a newer one (revision 0099)."""
    SQLTokenStore(url, secrets="plaintext")
    engine = create_engine(url)
    with engine.begin() as db:
        db.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()


def test_a_store_newer_than_this_esikit_is_refused_and_left_alone(store_url: str) -> None:
    _made_newer(store_url)
    with pytest.raises(AuthError) as caught:
        SQLTokenStore(store_url, secrets="plaintext")
    message = str(caught.value)
    assert "revision 0099" in message and f"knows up to {migrate.HEAD}" in message
    assert message.endswith(
        f"at schema revision 0099; this esikit knows up to {migrate.HEAD}: upgrade esikit to open it "
        "(migrations only go forward; to go back, restore a backup made before the upgrade); "
        "nothing was changed"
    )
    assert _revision(store_url) == "0099"


def test_the_cli_upgrade_refuses_a_newer_store_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from esi_cli.app import app

    url = f"sqlite:///{tmp_path / 'newer.sqlite'}"
    _made_newer(url)
    monkeypatch.setenv("ESI_CONFIG", os.devnull)
    monkeypatch.setenv("ESI_STORE", url)
    result = CliRunner().invoke(app, ["store", "upgrade"])
    assert result.exit_code != 0 and "revision 0099" in result.output, result.output
    assert "Traceback" not in result.output


def test_the_known_revisions_are_the_migrations_shipped() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(migrate.__file__).parent / "migrations"))
    shipped = [script.revision for script in ScriptDirectory.from_config(config).walk_revisions()]
    assert tuple(reversed(shipped)) == migrate.REVISIONS


def test_an_upgrade_refusal_never_shows_the_database_password(store_url: str) -> None:
    """`esi store upgrade` names the store in its refusal: with the password hidden."""
    _made_newer(store_url)
    # The test server trusts any password: one in the URL is accepted, and must not be shown.
    with_password = store_url.replace("://esikit@", "://esikit:hunter2@")
    with pytest.raises(AuthError) as caught:
        migrate.upgrade(create_engine(with_password))
    assert "revision 0099" in str(caught.value) and "hunter2" not in str(caught.value)
    if with_password != store_url:
        assert "esikit:***@" in str(caught.value)


def test_a_keyring_store_made_before_modes_were_recorded_is_known_as_one(tmp_path: Path) -> None:
    """A store whose tokens hold the keyring's marker, from before the mode was recorded: opened
    with a keyring it is used; opened in plaintext it is refused (its columns hold markers)."""
    from keyrings.alt.file import PlaintextKeyring

    from esi_auth.store.secrets import KeyringSecrets

    url = f"sqlite:///{tmp_path / 'old-keyring.sqlite'}"
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")
    keyring = KeyringSecrets(backend, allow_insecure=True)
    saved = SQLTokenStore(url, secrets=keyring).save(
        Token(
            character_id=1, character_name="c1", owner_hash="o", scopes=("esi-a.v1",), client_id="app",
            access_token="access-1", refresh_token="refresh-1", expires_at=1e10,
            created_at=1.0, updated_at=1.0,
        )
    )  # fmt: skip
    engine = create_engine(url)
    with engine.begin() as db:
        db.execute(text("DELETE FROM esi_store_meta"))  # as before modes were recorded
    engine.dispose()
    with pytest.raises(AuthError, match="keyring"):
        SQLTokenStore(url, secrets="plaintext")
    reopened = SQLTokenStore(url, secrets=keyring)
    token = reopened.get(saved.id or 0)
    assert token is not None and token.refresh_token == "refresh-1"
