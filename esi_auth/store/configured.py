"""The token store esikit's configuration names: the CLI, `SSOApp()` and the web views open the
same one.

`store = "default"` (the default) works on a desktop and on a headless machine alike: tokens in
SQLite under the user's data directory, their secrets in the system keyring where a usable one
exists, else encrypted with a key file created 0600 beside the database.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from attrs import frozen

from esi_auth.errors import AuthError
from esi_auth.store.sql import SQLTokenStore
from esi_client.configuration import Settings, load_settings

logger = logging.getLogger("esi_auth")

KEY_FILE_NAME = "store.key"
# Backends that would ask for a password at a terminal (or hang without one): never a default.
INTERACTIVE_BACKENDS = ("EncryptedKeyring",)


@frozen
class DefaultStoreChoice:
    """Where the default store is and how it keeps secrets; `describe()` is the one line shown."""

    database: Path
    key_file: Path | None  # None: the system keyring

    def describe(self) -> str:
        where = f"the token store {self.database}"
        if self.key_file is None:
            return f"{where}, secrets in the system keyring"
        return f"{where}, secrets encrypted with the key file {self.key_file}"


def _keyring_usable() -> bool:
    """A keyring backend that stores secrets safely and asks no one for a password."""
    from esi_auth.store.secrets import backend_name, is_insecure_backend

    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception:  # a broken keyring installation is no keyring
        return False
    interactive = any(bad in backend_name(backend) for bad in INTERACTIVE_BACKENDS)
    return not (is_insecure_backend(backend) or interactive)


def default_store_choice(directory: Path | None = None) -> DefaultStoreChoice:
    """Which default store this machine gets. A key file already there wins (the store was made
    with it); else the keyring when usable; else a key file."""
    if directory is None:
        from platformdirs import user_data_path

        directory = user_data_path("esikit")
    key_file = directory / KEY_FILE_NAME
    if key_file.exists() or not _keyring_usable():
        return DefaultStoreChoice(directory / "tokens.sqlite", key_file)
    return DefaultStoreChoice(directory / "tokens.sqlite", None)


def _read_or_create_key(path: Path) -> str:
    """The key file's Fernet key; a new one is written 0600 (never readable by others, even for
    an instant) when there is none."""
    from cryptography.fernet import Fernet

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(Fernet.generate_key().decode() + "\n")
        logger.info("created the token store's key file %s (mode 0600): keep it with the store", path)
    if path.stat().st_mode & 0o077:
        raise AuthError(f"the key file {path} is readable by others: chmod 600 {path}")
    return path.read_text(encoding="ascii").strip()


def default_store(directory: Path | None = None) -> SQLTokenStore:
    """Tokens in SQLite under the user's data directory; secrets in the system keyring where a
    usable backend exists, else encrypted by a key file beside the database (headless machines,
    containers, CI). One INFO line says which."""
    from esi_auth.store.secrets import KeyringSecrets

    choice = default_store_choice(directory)
    logger.info("using %s", choice.describe())
    url = f"sqlite:///{choice.database}"
    if choice.key_file is None:
        return SQLTokenStore(url, secrets=KeyringSecrets())
    return SQLTokenStore(url, secret_key=_read_or_create_key(choice.key_file))


def store_from_settings(settings: Settings | None = None) -> SQLTokenStore:
    """The store the configuration names: "default", or an SQLAlchemy URL with its secret key
    (`secret_key`, `ESI_SECRET_KEY`, `secret_key_file`) or `secrets = "plaintext"`."""
    settings = settings or load_settings()
    if settings.store == "default":
        return default_store()
    key = settings.store_key()
    return SQLTokenStore(settings.store, secret_key=key, secrets=settings.secrets)  # a key wins
