"""One configuration for every entry point: the config file, then ESI_* environment, then
arguments, read alike by ESIClient, SSOConfig, SSOApp() and the CLI; its errors name the file
and the line; the default store works on a machine without a keyring."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import pytest
from typer.testing import CliRunner

from esi_auth import AuthError, SQLTokenStore, SSOApp, SSOConfig, Token
from esi_auth.store.configured import default_store, default_store_choice
from esi_cli.app import app as cli
from esi_client import ConfigurationError, ESIClient
from esi_client.api.status import get_status
from esi_client.configuration import load_settings
from tests.support.auth_support import FileKeyring
from tests.support.fixtures import FakeESIServer

runner = CliRunner()


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    path.write_text("")
    monkeypatch.setenv("ESI_CONFIG", str(path))
    for name in ("ESI_BASE_URL", "ESI_LOGIN_URL", "ESI_CLIENT_ID", "ESI_STORE", "ESI_CONTACT"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_an_unknown_key_is_refused_with_the_closest_known_one(config_file: Path) -> None:
    config_file.write_text('client_id = "x"\nlogin_base_url = "http://127.0.0.1:1"\n')
    with pytest.raises(ConfigurationError) as refused:
        load_settings()
    message = str(refused.value)
    assert f"{config_file}, line 2" in message
    assert "'login_base_url'" in message and "did you mean 'login_url'" in message


def test_a_value_without_quotes_names_the_file_and_line(config_file: Path) -> None:
    config_file.write_text('client_id = "x"\ncontact = me@example.com\n')
    with pytest.raises(ConfigurationError) as refused:
        load_settings()
    message = str(refused.value)
    assert str(config_file) in message and "line 2" in message and "quoted" in message
    result = runner.invoke(cli, ["config", "show"])
    assert result.exit_code == 2
    assert "line 2" in result.output and "Traceback" not in result.output


def test_a_value_of_another_type_names_the_key(config_file: Path) -> None:
    config_file.write_text("client_id = 12345\n")
    with pytest.raises(ConfigurationError, match=r"line 1: client_id must be a string, not int"):
        load_settings()


def test_a_named_config_file_that_does_not_exist_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESI_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigurationError, match=r"missing\.toml, which does not exist"):
        load_settings()
    result = runner.invoke(cli, ["tokens", "list"])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_one_setting_name_points_client_and_sso_anywhere(
    fake_esi: FakeESIServer, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ESI_BASE_URL / ESI_LOGIN_URL (or base_url / login_url in the file) reach ESIClient and
    SSOConfig without a word in the code."""
    config_file.write_text(f'login_url = "{fake_esi.url}/"\ncontact = "file@example.com"\n')
    monkeypatch.setenv("ESI_BASE_URL", fake_esi.url)
    assert SSOConfig(client_id="x").login_url == fake_esi.url  # from the file, slash trimmed
    with ESIClient(app_name="configured") as client:  # contact from the file
        assert client.base_url == fake_esi.url
        assert get_status.sync(client=client).players > 0
        assert "(file@example.com)" in client.identity.user_agent()
    assert fake_esi.state.stats.requests == 1
    # an argument still wins over both
    assert SSOConfig(client_id="x", login_url="http://127.0.0.1:9").login_url == "http://127.0.0.1:9"


def test_ssoapp_opens_the_store_the_cli_uses(
    fake_esi: FakeESIServer, config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    config_file.write_text(
        f'client_id = "configured-app"\nstore = "{store_url}"\nsecrets = "plaintext"\n'
        f'login_url = "{fake_esi.url}"\n'
    )
    fake_esi.sso.apps["configured-app"] = None
    minted = fake_esi_token(fake_esi, "configured-app")
    SQLTokenStore(store_url, secrets="plaintext").save(minted)
    app = SSOApp()
    assert app.config.client_id == "configured-app"
    assert app.store.url == store_url
    assert [t.character_id for t in app.tokens().all()] == [minted.character_id]
    listed = runner.invoke(cli, ["tokens", "list"])
    assert listed.exit_code == 0 and str(minted.character_id) in listed.output


def fake_esi_token(fake_esi: FakeESIServer, client_id: str) -> Token:
    import httpx2

    from esi_auth.sso import SSOClient, TokenAnswer

    answer = httpx2.post(
        f"{fake_esi.url}/_fake/token",
        json={"client_id": client_id, "scopes": ["esi-wallet.read_character_wallet.v1"]},
    ).json()
    sso = SSOClient(SSOConfig(client_id=client_id, login_url=fake_esi.url))
    return sso.validate(TokenAnswer(answer["access_token"], answer["refresh_token"])).to_token()


def test_the_default_store_works_headless_with_a_key_file(tmp_path: Path, fake_esi: FakeESIServer) -> None:
    """No usable keyring (a server, a container, CI): SQLite with secrets encrypted by a key file
    created 0600 beside it; opened again, the same key reads the same tokens."""
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    try:
        choice = default_store_choice(tmp_path / "data")
        assert choice.key_file == tmp_path / "data" / "store.key"
        data = tmp_path / "data"
        encrypted = f"secrets encrypted with the key file {data / 'store.key'}"
        assert choice.describe() == f"the token store {data / 'tokens.sqlite'}, {encrypted}"
        fake_esi.sso.apps["headless"] = None
        token = fake_esi_token(fake_esi, "headless")
        default_store(tmp_path / "data").save(token)
        key_file = tmp_path / "data" / "store.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        again = default_store(tmp_path / "data")
        assert again.secrets.mode == "encrypted"
        stored = again.query().first()
        assert stored is not None and stored.refresh_token == token.refresh_token
        raw = (tmp_path / "data" / "tokens.sqlite").read_bytes()
        assert token.refresh_token is not None
        assert token.refresh_token.encode() not in raw  # encrypted at rest
        for loose in (0o640, 0o604):  # a key others can read is refused, never used
            key_file.chmod(loose)
            with pytest.raises(AuthError) as caught:
                default_store(tmp_path / "data")
            assert str(caught.value) == f"the key file {key_file} is readable by others: chmod 600 {key_file}"
        nested = tmp_path / "not" / "made" / "yet"  # its folders are made, the key 0600
        assert default_store(nested).secrets.mode == "encrypted"
        assert stat.S_IMODE((nested / "store.key").stat().st_mode) == 0o600
    finally:
        keyring.set_keyring(previous)


def test_the_default_store_uses_a_usable_keyring(tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring(tmp_path / "keyring.json"))
    try:
        choice = default_store_choice(tmp_path / "data")
        assert choice.key_file is None
        assert (
            choice.describe()
            == f"the token store {tmp_path / 'data' / 'tokens.sqlite'}, secrets in the system keyring"
        )
        store = default_store(tmp_path / "data")
        assert (
            store.secrets.mode == "keyring"
            and store.url == f"sqlite:///{tmp_path / 'data' / 'tokens.sqlite'}"
        )
        assert not (tmp_path / "data" / "store.key").exists()
    finally:
        keyring.set_keyring(previous)


def test_ssoapp_opens_an_encrypted_store_with_the_configured_key(
    fake_esi: FakeESIServer, config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.fernet import Fernet

    store_url = f"sqlite:///{tmp_path / 'encrypted.sqlite'}"
    key = Fernet.generate_key()
    config_file.write_text(f'client_id = "keyed-app"\nstore = "{store_url}"\nlogin_url = "{fake_esi.url}"\n')
    monkeypatch.setenv("ESI_SECRET_KEY", key.decode())
    fake_esi.sso.apps["keyed-app"] = None
    minted = fake_esi_token(fake_esi, "keyed-app")
    SQLTokenStore(store_url, secret_key=key).save(minted)
    app = SSOApp()
    assert app.store.url == store_url and app.store.secrets.mode == "encrypted"
    [read] = app.tokens().all()
    assert read.refresh_token == minted.refresh_token


def test_the_store_named_default_is_the_one_in_the_users_data_folder(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    config_file.write_text('client_id = "default-app"\nstore = "default"\n')
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    try:
        app = SSOApp()
        assert app.store.url == f"sqlite:///{tmp_path / 'xdg' / 'esikit' / 'tokens.sqlite'}"
        assert app.store.secrets.mode == "encrypted"
    finally:
        keyring.set_keyring(previous)


@pytest.mark.parametrize("backend", ["broken", "asks-for-a-password"])
def test_the_default_store_keeps_its_key_in_a_file_when_the_keyring_cannot_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """A keyring that fails to load, or one that would ask for a password (no one is there to
    type it in a service): the key file instead."""

    def broken() -> Any:
        raise RuntimeError("no D-Bus session")

    prompting = type("EncryptedKeyring", (), {"priority": 1, "__module__": "keyrings.alt.file"})
    monkeypatch.setattr(keyring, "get_keyring", broken if backend == "broken" else prompting)
    assert default_store_choice(tmp_path / "data").key_file == tmp_path / "data" / "store.key"
