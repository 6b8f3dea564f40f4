"""Token store queries, where secrets live, and that no secret ever shows."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from keyrings.alt.file import PlaintextKeyring

from esi_auth.errors import AuthError, InvalidGrantError, SSOError
from esi_auth.store.secrets import KeyringSecrets
from esi_auth.store.sql import SQLTokenStore
from esi_auth.token import Token
from tests.support.auth_support import FileKeyring, make_setup
from tests.support.fixtures import ClientFactory, FakeESIServer, ManualClock

A, B, C = "esi-a.v1", "esi-b.v1", "esi-c.v1"


def _token(
    character_id: int, scopes: tuple[str, ...], created: float, owner: str = "o1", client: str = "app"
) -> Token:
    return Token(
        character_id=character_id,
        character_name=f"c{character_id}",
        owner_hash=owner,
        scopes=scopes,
        client_id=client,
        access_token=f"access-{character_id}-{created}",
        refresh_token=f"refresh-{character_id}-{created}",
        expires_at=time.time() + 1000,
        created_at=created,
        updated_at=created,
    )


@pytest.fixture
def store(store_url: str) -> SQLTokenStore:
    """The module's queries run on SQLite and on PostgreSQL."""
    store = SQLTokenStore(store_url, secrets="plaintext")
    for token in (
        _token(1, (A,), 1.0),
        _token(1, (A, B), 2.0),
        _token(1, (A, B, C), 3.0),
        _token(2, (A, B), 4.0, owner="o2"),
        _token(3, (B,), 5.0, client="other-app"),
    ):
        store.save(token)
    return store


def _ids(tokens: Any) -> list[tuple[int, float]]:
    return [(t.character_id, t.created_at) for t in tokens]


def test_filters_and_newest_first(store: SQLTokenStore) -> None:
    assert _ids(store.query().filter(character_id=1)) == [(1, 3.0), (1, 2.0), (1, 1.0)]
    assert _ids(store.query().filter(owner_hash="o2")) == [(2, 4.0)]
    assert _ids(store.query().filter(client_id="other-app")) == [(3, 5.0)]


def test_require_scopes(store: SQLTokenStore) -> None:
    assert _ids(store.query().require_scopes([A, B])) == [(2, 4.0), (1, 3.0), (1, 2.0)]
    assert _ids(store.query().require_scopes(f"{C} {A}")) == [(1, 3.0)]
    assert _ids(store.query().filter(character_id=1).require_scopes_exact([B, A])) == [(1, 2.0)]


def test_equivalent_to(store: SQLTokenStore) -> None:
    """Same character, same application, same scopes: never the token itself."""
    other_app = store.save(_token(1, (A, B), 8.0, client="other-app"))
    twin = store.save(_token(1, (A, B), 9.0))
    assert _ids(store.query().equivalent_to(twin)) == [(1, 2.0)]
    assert _ids(store.query().equivalent_to(other_app)) == []
    # Not saved yet (no id): every saved token like it is equivalent, whatever its id.
    unsaved = _token(1, (A, B), 10.0)
    assert _ids(store.query().equivalent_to(unsaved)) == [(1, 9.0), (1, 2.0)]
    assert _ids(store.query().equivalent_to(_token(1, (B, A), 10.0))) == [(1, 9.0), (1, 2.0)]  # a set
    assert _ids(store.query().equivalent_to(_token(1, (A,), 10.0))) == [(1, 1.0)]


def test_delete_removes_what_the_query_selects(store: SQLTokenStore) -> None:
    assert store.query().filter(character_id=1).require_scopes([A, B]).delete() == 2
    assert _ids(store.query()) == [(3, 5.0), (2, 4.0), (1, 1.0)]
    assert store.query().filter(client_id="no-such-app").delete() == 0


def test_the_owner_default_reads_as_anyone() -> None:
    """help() shows the default of `owner=` by name: every owner, not "no owner" (None)."""
    import inspect

    from esi_auth.query import TokenQuery

    assert "owner: 'str | Anyone | None' = ANYONE" in str(inspect.signature(TokenQuery.filter))


def test_require_valid(fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path) -> None:
    setup = make_setup(fake_esi, esi_clock, tmp_path)
    fresh, expired, dead = setup.log_in(), setup.log_in(), setup.log_in()
    setup.store.save(expired)
    esi_clock.advance(1300)  # all three expired now; refresh them
    fake_esi.sso._grants[dead.refresh_token or ""].active = False  # this one was revoked at SSO
    dead_refresh = fake_esi.sso._grants.pop(dead.refresh_token or "")
    assert dead_refresh is not None
    valid = setup.store.query().require_valid(setup.refresher)
    assert sorted(t.id or 0 for t in valid) == sorted([fresh.id or 0, expired.id or 0])
    assert setup.store.get(dead.id or 0) is None
    assert all(t.expires_at > esi_clock.now() for t in valid)


def test_secrets_encrypted_with_a_user_key(tmp_path: Path) -> None:
    path = tmp_path / "enc.sqlite"
    store = SQLTokenStore(f"sqlite:///{path}", secret_key=Fernet.generate_key())
    token = store.save(_token(7, (A,), 1.0))
    raw = path.read_bytes() + (tmp_path / "enc.sqlite-wal").read_bytes()
    assert token.refresh_token and token.refresh_token.encode() not in raw
    assert store.get(token.id or 0) == token
    assert (path.stat().st_mode & 0o777) == 0o600


def test_secrets_in_a_keyring_backend(tmp_path: Path) -> None:
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")
    path = tmp_path / "kr.sqlite"
    store = SQLTokenStore(f"sqlite:///{path}", secrets=KeyringSecrets(backend, allow_insecure=True))
    token = store.save(_token(8, (A,), 1.0))
    database = path.read_bytes() + (tmp_path / "kr.sqlite-wal").read_bytes()
    assert (token.refresh_token or "").encode() not in database
    assert backend.get_password("esikit", f"token-{token.id}-refresh") == token.refresh_token
    read = store.get(token.id or 0)
    assert read == token  # secrets are read lazily, from the keyring
    assert (read.access_token, read.refresh_token) == ("access-8-1.0", "refresh-8-1.0")
    with sqlite3.connect(path) as db:  # the database keeps a marker (older stores are read by it)
        assert db.execute("SELECT access_token, refresh_token FROM esi_tokens").fetchall() == [
            ("keyring", "keyring")
        ]
    store.delete(token.id or 0)
    for kind in ("access", "refresh"):
        assert backend.get_password("esikit", f"token-{token.id}-{kind}") is None


def test_the_newest_token_is_the_one_created_last_whatever_its_id(tmp_path: Path) -> None:
    """Tokens imported out of order (save_many, a restore) rank by when they were created."""
    store = SQLTokenStore(f"sqlite:///{tmp_path / 'order.sqlite'}", secrets="plaintext")
    later, earlier = _token(5, (A,), 2000.0), _token(5, (A,), 1000.0)
    store.save_many([later, earlier])  # the later-created token gets the lower id
    assert (later.id or 0) < (earlier.id or 0)
    newest = store.query().filter(character_id=5).first()
    assert newest is not None and newest.id == later.id


def test_a_secret_this_key_cannot_open_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dirs" / "tokens.sqlite"  # its folders are created
    store = SQLTokenStore(f"sqlite:///{path}", secret_key=Fernet.generate_key())
    token = store.save(_token(6, (A,), 1.0))
    with sqlite3.connect(path) as db:  # one secret damaged on disk
        db.execute("UPDATE esi_tokens SET refresh_token = 'gAAAAAnot-a-fernet-token'")
    read = store.get(token.id or 0)
    assert read is not None and read.access_token == token.access_token  # secrets are read lazily
    with pytest.raises(AuthError) as caught:
        _ = read.refresh_token
    assert str(caught.value) == "a stored token secret cannot be decrypted with this key"


def test_a_private_store_file_is_left_as_it_is(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "tokens.sqlite"
    SQLTokenStore(f"sqlite:///{path}", secrets="plaintext")
    caplog.clear()
    SQLTokenStore(f"sqlite:///{path}", secrets="plaintext")
    assert (path.stat().st_mode & 0o777) == 0o600
    assert [r.getMessage() for r in caplog.records if "readable by others" in r.getMessage()] == []


def test_an_encrypted_store_without_a_key_check_gets_one_and_then_refuses_another_key(tmp_path: Path) -> None:
    """A store whose mode was recorded before key checks were: the next open with its key adds
    the check, so a wrong key is refused up front from then on, touching nothing."""
    path = tmp_path / "enc.sqlite"
    key = Fernet.generate_key()
    SQLTokenStore(f"sqlite:///{path}", secret_key=key).save(_token(7, (A,), 1.0))
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM esi_store_meta WHERE key = 'key_check'")
    SQLTokenStore(f"sqlite:///{path}", secret_key=key)  # adds the check
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM esi_store_meta WHERE key = 'key_check'").fetchone() == (1,)
    with pytest.raises(AuthError, match="is encrypted with another key; nothing was read or changed"):
        SQLTokenStore(f"sqlite:///{path}", secret_key=Fernet.generate_key())


def test_a_keyring_keeps_nothing_of_a_deleted_token_and_a_lost_secret_is_none(tmp_path: Path) -> None:
    backend = FileKeyring(tmp_path / "keyring.json")
    store = SQLTokenStore(
        f"sqlite:///{tmp_path / 'kr.sqlite'}", secrets=KeyringSecrets(backend, allow_insecure=True)
    )
    kept, lost = store.save(_token(8, (A,), 1.0)), store.save(_token(9, (A,), 2.0))
    assert sorted(name for _, name in backend.entries) == [
        f"token-{kept.id}-access",
        f"token-{kept.id}-refresh",
        f"token-{lost.id}-access",
        f"token-{lost.id}-refresh",
    ]
    store.save_rotation(kept.id or 0, "rotated-refresh", "rotated-access")  # a refresh's answer
    assert backend.entries[("esikit", f"token-{kept.id}-refresh")] == "rotated-refresh"
    assert backend.entries[("esikit", f"token-{kept.id}-access")] == "rotated-access"
    rotated = store.get(kept.id or 0)
    assert rotated is not None and (rotated.refresh_token, rotated.access_token) == (
        "rotated-refresh",
        "rotated-access",
    )
    backend.delete_password("esikit", f"token-{lost.id}-refresh")  # removed outside esikit
    read = store.get(lost.id or 0)
    assert read is not None and read.refresh_token is None and read.access_token == "access-9-2.0"
    store.delete([kept.id or 0, lost.id or 0])
    assert backend.entries == {}


def test_a_pending_logins_verifier_is_in_the_keyring_only_until_used_or_expired(tmp_path: Path) -> None:
    backend = FileKeyring(tmp_path / "keyring.json")
    store = SQLTokenStore(
        f"sqlite:///{tmp_path / 'kr.sqlite'}", secrets=KeyringSecrets(backend, allow_insecure=True)
    )
    store.add_pending_login("state-a", "verifier-a", ["esi-b.v1", "esi-a.v1", "esi-b.v1"], "app", 1000.0)
    store.add_pending_login("state-b", "verifier-b", [], "app", 2000.0)
    assert len(backend.entries) == 2 and "verifier-a" in backend.entries.values()
    taken = store.take_pending_login("state-a")
    assert taken is not None and (taken["code_verifier"], taken["scopes"]) == (
        "verifier-a",
        "esi-a.v1 esi-b.v1",
    )
    assert list(backend.entries.values()) == ["verifier-b"]  # used once: gone
    assert store.delete_pending_logins_older_than(1000, now=3000.0) == 0  # exactly 1000 s old: kept
    assert store.delete_pending_logins_older_than(999, now=3000.0) == 1
    assert backend.entries == {} and store.take_pending_login("state-b") is None


REFUSED_KEYRING = (
    "no usable keyring backend (found {name}); token secrets will not be stored in plaintext. "
    "Options: install an encrypted file backend (pip install keyrings.cryptfile and set "
    "PYTHON_KEYRING_BACKEND=keyrings.cryptfile.cryptfile.CryptFileKeyring), or use the SQL store "
    "with secrets encrypted by your own key (SQLTokenStore(url, secret_key=...))"
)


class _ZeroPriorityKeyring:
    """A backend keyring itself ranks unusable (priority 0), whatever its name."""

    priority = 0


def test_an_insecure_keyring_is_refused_with_options(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())  # type: ignore[no-untyped-call]
    for allow_insecure in (False, True):  # the system's own backend is never allowed when insecure
        with pytest.raises(AuthError) as caught:
            KeyringSecrets(allow_insecure=allow_insecure)
        assert str(caught.value) == REFUSED_KEYRING.format(name="keyring.backends.fail.Keyring")


def test_an_insecure_backend_passed_explicitly_needs_allow_insecure(tmp_path: Path) -> None:
    plaintext = PlaintextKeyring()
    plaintext.file_path = str(tmp_path / "keyring.cfg")
    with pytest.raises(AuthError) as caught:
        KeyringSecrets(plaintext)
    assert str(caught.value) == REFUSED_KEYRING.format(name="keyrings.alt.file.PlaintextKeyring")
    ranked_unusable = _ZeroPriorityKeyring()
    with pytest.raises(AuthError, match="no usable keyring backend"):
        KeyringSecrets(ranked_unusable)
    assert KeyringSecrets(plaintext, allow_insecure=True).mode == "keyring"
    assert KeyringSecrets(ranked_unusable, allow_insecure=True).mode == "keyring"


def test_a_secure_backend_is_accepted_whatever_its_priority_says() -> None:
    """Priority 1 (the lowest usable) or none at all: a backend not known to be insecure is used."""
    lowest = type("LowestKeyring", (), {"priority": 1})()
    unranked = type("UnrankedKeyring", (), {})()
    assert KeyringSecrets(lowest).mode == KeyringSecrets(unranked).mode == "keyring"


def test_no_secret_in_logs_reprs_or_errors(
    fake_esi: FakeESIServer,
    esi_clock: ManualClock,
    tmp_path: Path,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from esi_client.api.wallet import get_characters_character_id_wallet

    setup = make_setup(fake_esi, esi_clock, tmp_path, secret="the-web-app-secret")
    captured: list[str] = []
    with caplog.at_level(logging.DEBUG):
        token = setup.log_in()
        esi_clock.advance(1300)
        client = make_client(auth=setup.auth)
        get_characters_character_id_wallet.sync(token.character_id, client=client)
        fake_esi.sso.fail_refresh = "invalid_grant"
        esi_clock.advance(1300)
        try:
            get_characters_character_id_wallet.sync(token.character_id, client=client)
        except Exception as exc:
            captured += [str(exc), repr(exc)]
    stored = setup.store.get(token.id or 0)
    captured += [r.getMessage() for r in caplog.records] + [repr(token), str(token), repr(setup.sso.config)]
    captured += [repr(setup.store), repr(stored)]
    # every esi_auth type a user may print
    from esi_auth import SSOApp

    app = SSOApp(setup.sso.config, setup.store, clock=esi_clock)
    pending = app.start_login("esi-wallet.read_character_wallet.v1")
    objects: list[object] = [
        app,
        app.sso,
        app.refresher,
        app.login,
        app.auth,
        app.sso.jwks,
        app.store.secrets,
    ]
    objects += [pending, setup.events]
    captured += [repr(thing) for thing in objects] + [str(thing) for thing in objects]
    secrets = [token.access_token, token.refresh_token or "", "the-web-app-secret"]
    text = "\n".join(captured)
    assert len(text) > 200
    for secret in secrets:
        assert secret and secret not in text


def test_require_valid_leaves_out_what_sso_cannot_refresh_now(
    fake_esi: FakeESIServer, esi_clock: ManualClock, tmp_path: Path
) -> None:
    """SSO down (transient): the token is left out and kept. SSO refusing the app itself (not
    the grant): that is the caller's to know, raised, and the token is kept too."""
    setup = make_setup(fake_esi, esi_clock, tmp_path)
    token = setup.log_in()
    esi_clock.advance(1300)
    fake_esi.sso.fail_refresh = "unavailable"
    assert setup.store.query().require_valid(setup.refresher) == []
    assert setup.store.get(token.id or 0) is not None
    fake_esi.sso.fail_refresh = None
    del fake_esi.sso.apps[token.client_id]  # the app was deleted at CCP's developer site
    with pytest.raises(SSOError) as refused:
        setup.store.query().require_valid(setup.refresher)
    assert not refused.value.transient and not isinstance(refused.value, InvalidGrantError)
    assert setup.store.get(token.id or 0) is not None


def test_a_store_url_that_is_not_a_database_url_is_named_without_its_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(AuthError) as caught:
        SQLTokenStore("postgresql:app:hunter2@db.example/tokens", secrets="plaintext")
    assert str(caught.value) == (
        "the token store URL 'postgresql:…' is not a database URL "
        "(dialect+driver://user:password@host/database)"
    )
    with pytest.raises(AuthError) as caught:
        SQLTokenStore("tokens.sqlite", secrets="plaintext")
    assert str(caught.value).endswith(
        "'tokens.sqlite' is not a database URL (a file: sqlite:///tokens.sqlite)"
    )
    assert "hunter2" not in caplog.text


def test_an_in_memory_store_leaves_no_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = SQLTokenStore("sqlite:///:memory:", secrets="plaintext")
    saved = store.save(_token(1, (A,), 1.0))
    assert saved.id is not None and store.get(saved.id) is not None
    assert list(tmp_path.iterdir()) == []


def test_a_rotation_marks_when_the_token_was_updated(store: SQLTokenStore) -> None:
    saved = store.save(_token(9, (A,), 9.0))
    assert saved.id is not None
    while time.time() <= saved.updated_at:  # the clock moves on (coarse clocks tick slowly)
        time.sleep(0.001)
    before = time.time()
    store.save_rotation(saved.id, "refresh-new", "access-new")
    rotated = store.get(saved.id)
    assert rotated is not None and rotated.access_token == "access-new"
    assert before <= rotated.updated_at <= time.time()
