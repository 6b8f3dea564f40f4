"""How a store keeps its secrets, recorded in the store (esi_store_meta) and checked on open.

A store is never opened in another mode than it was made in (ciphertext handed out as a token,
or plaintext read as ciphertext), nor encrypted with another key. The check is read-only and
runs before any migration, so a store that refuses to open is left as it was.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from esi_auth.errors import AuthError
from esi_auth.store._schema import store_meta, tokens
from esi_auth.store.secrets import InlineSecrets, SecretBox


def refuse_other_secrets(db: Any, secrets: SecretBox, where: str) -> dict[str, str]:
    """The store's recorded facts; AuthError, touching nothing, when its secrets are kept
    otherwise than `secrets` would keep them (an encrypted store opened without its key, or
    with another)."""
    mode = getattr(secrets, "mode", "custom")
    has_table = inspect(db).has_table
    facts: dict[str, str] = {}
    if has_table(store_meta.name):
        facts = dict(db.execute(select(store_meta.c.key, store_meta.c.value)).all())
    recorded = facts.get("secrets") or (_infer_mode(db) if has_table(tokens.name) else None)
    if recorded is not None and recorded != mode:
        raise AuthError(_mode_refusal(recorded, mode, where))
    check = facts.get("key_check")
    if (
        isinstance(secrets, InlineSecrets)
        and mode == "encrypted"
        and check is not None
        and not secrets.opens(check)
    ):
        raise AuthError(f"the token store {where} is encrypted with another key; nothing was read or changed")
    return facts


def secrets_mode_recorded(facts: dict[str, str], secrets: SecretBox) -> bool:
    """Whether `record_secrets_mode` has nothing left to write."""
    mode = getattr(secrets, "mode", "custom")
    wants_check = isinstance(secrets, InlineSecrets) and mode == "encrypted"
    return "secrets" in facts and (not wants_check or "key_check" in facts)


def record_secrets_mode(engine: Engine, secrets: SecretBox, where: str) -> None:
    """Record how this store keeps its secrets (and a key check) the first time."""
    mode = getattr(secrets, "mode", "custom")
    with engine.begin() as db:
        facts = refuse_other_secrets(db, secrets, where)
        if isinstance(secrets, InlineSecrets) and mode == "encrypted" and "key_check" not in facts:
            _insert_meta(db, "key_check", secrets.key_check() or "")
        if "secrets" not in facts:
            _insert_meta(db, "secrets", mode)


def _infer_mode(db: Any) -> str | None:
    """How a store made before modes were recorded keeps its secrets, from one stored value."""
    value = db.execute(
        select(tokens.c.access_token).where(tokens.c.access_token.is_not(None)).limit(1)
    ).scalar()
    if value is None:
        return None
    if value == "keyring":
        return "keyring"
    return "encrypted" if str(value).startswith("gAAAAA") else "plaintext"


def _mode_refusal(recorded: str, mode: str, where: str) -> str:
    how = {
        "encrypted": "open it with its key (secret_key=..., ESI_SECRET_KEY or secret_key_file for the CLI)",
        "keyring": "open it with secrets=KeyringSecrets()",
        "plaintext": "open it with secrets='plaintext'",
    }.get(recorded, f"open it with the SecretBox it was made with ({recorded})")
    return (
        f"the token store {where} keeps its secrets {recorded}, not {mode}: {how}; "
        "nothing was read or changed"
    )


def _insert_meta(db: Any, key: str, value: str) -> None:
    """A fact about the store, unless another process opening it at the same time wrote it first."""
    if db.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        db.execute(postgresql.insert(store_meta).values(key=key, value=value).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects import sqlite

        db.execute(sqlite.insert(store_meta).values(key=key, value=value).on_conflict_do_nothing())
