"""Where a store keeps token secrets: in the database (optionally encrypted) or the keyring."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from esi_auth.errors import AuthError

logger = logging.getLogger("esi_auth")
KEYRING_SERVICE = "esikit"
KEY_CHECK = "esikit-key-check"


class SecretBox(Protocol):
    """Turns a secret into what the store's column holds, and back.

    `mode` ("plaintext", "encrypted", "keyring" or your own name) is recorded in the store, so
    that a store is never opened in another mode (ciphertext handed out as a token).
    """

    mode: str

    def seal(self, token_id: int, kind: str, value: str | None) -> str | None: ...

    def open(self, token_id: int, kind: str, stored: str | None) -> str | None: ...

    def forget(self, token_id: int) -> None: ...


class InlineSecrets:
    """Secrets in the database itself; encrypted with Fernet when a key is given.

    `key` is a Fernet key (`cryptography.fernet.Fernet.generate_key()`), kept by the user
    (environment, secret manager), never in the database.
    """

    def __init__(self, key: bytes | str | None = None) -> None:
        self._fernet: Any = None
        self.mode = "plaintext"
        if key is not None:
            from cryptography.fernet import Fernet

            try:
                self._fernet = Fernet(key)
            except (ValueError, TypeError):
                raise AuthError(
                    "the secret key is not a Fernet key (32 url-safe base64 bytes; make one with `python -c "
                    "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
                ) from None
            self.mode = "encrypted"

    def key_check(self) -> str | None:
        """A value only this key opens: the store keeps it to refuse a wrong key up front."""
        return self.seal(0, "check", KEY_CHECK)

    def opens(self, check: str) -> bool:
        try:
            return self.open(0, "check", check) == KEY_CHECK
        except AuthError:
            return False

    def seal(self, token_id: int, kind: str, value: str | None) -> str | None:
        if value is None or self._fernet is None:
            return value
        return str(self._fernet.encrypt(value.encode()).decode())

    def open(self, token_id: int, kind: str, stored: str | None) -> str | None:
        if stored is None or self._fernet is None:
            return stored
        from cryptography.fernet import InvalidToken

        try:
            return str(self._fernet.decrypt(stored.encode()).decode())
        except InvalidToken:
            raise AuthError("a stored token secret cannot be decrypted with this key") from None

    def forget(self, token_id: int) -> None:
        pass


INSECURE_BACKENDS = ("fail.Keyring", "null.Keyring", "PlaintextKeyring", "chainer.ChainerBackend")


def backend_name(backend: Any) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def is_insecure_backend(backend: Any) -> bool:
    """A keyring backend that would keep secrets in plaintext, or not at all."""
    name = backend_name(backend)
    return getattr(backend, "priority", 1) <= 0 or any(n in name for n in INSECURE_BACKENDS)


class KeyringSecrets:
    """Secrets in the system keyring; the database keeps only a marker.

    Refuses a keyring backend that would store them in plaintext or not at all, unless that
    backend is passed explicitly with `allow_insecure=True` (tests use a file backend).
    """

    def __init__(
        self, backend: Any = None, *, allow_insecure: bool = False, service: str = KEYRING_SERVICE
    ) -> None:
        import keyring

        self.mode = "keyring"
        self.service = service  # one per token database sharing a keyring
        self._backend = backend or keyring.get_keyring()
        name = backend_name(self._backend)
        if is_insecure_backend(self._backend) and not (allow_insecure and backend is not None):
            raise AuthError(
                f"no usable keyring backend (found {name}); token secrets will not be stored in plaintext. "
                "Options: install an encrypted file backend (pip install keyrings.cryptfile and set "
                "PYTHON_KEYRING_BACKEND=keyrings.cryptfile.cryptfile.CryptFileKeyring), or use the SQL store "
                "with secrets encrypted by your own key (SQLTokenStore(url, secret_key=...))"
            )

    def _name(self, token_id: int, kind: str) -> str:
        return f"token-{token_id}-{kind}"

    def seal(self, token_id: int, kind: str, value: str | None) -> str | None:
        if value is None:
            self._delete(token_id, kind)
            return None
        self._backend.set_password(self.service, self._name(token_id, kind), value)
        return "keyring"

    def open(self, token_id: int, kind: str, stored: str | None) -> str | None:
        if stored is None:
            return None
        value = self._backend.get_password(self.service, self._name(token_id, kind))
        return str(value) if value is not None else None

    def _delete(self, token_id: int, kind: str) -> None:
        import contextlib

        import keyring.errors

        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            self._backend.delete_password(self.service, self._name(token_id, kind))

    def forget(self, token_id: int) -> None:
        for kind in ("access", "refresh"):
            self._delete(token_id, kind)


def choose_secrets(secrets: SecretBox | str | None, secret_key: bytes | str | None, where: str) -> SecretBox:
    """The SecretBox a store is opened with. Plaintext is an explicit choice, never a default."""
    if secrets is not None and not isinstance(secrets, str):
        return secrets
    if secret_key is not None:
        return InlineSecrets(secret_key)
    if secrets == "plaintext":
        logger.warning("token secrets in %s are stored in plaintext (secrets='plaintext')", where)
        return InlineSecrets(None)
    if secrets is not None:
        raise AuthError(f"unknown secrets mode {secrets!r}: pass 'plaintext', a secret_key or a SecretBox")
    raise AuthError(
        f"{where}: choose where token secrets are kept. Options: secret_key=... (a Fernet key you "
        "keep: ESI_SECRET_KEY or secret_key_file for the CLI), secrets=KeyringSecrets() (the "
        "system keyring), or secrets='plaintext' to store them unencrypted knowingly"
    )
