"""The token store: tokens, their scopes and pending logins in one SQL database.

SQLite by default (a file created 0600); any SQLAlchemy URL, PostgreSQL included, for servers.
Secrets go through a SecretBox: inline (optionally encrypted with your key) or the keyring.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock
from sqlalchemy import create_engine, delete, event, insert, select, update
from sqlalchemy.engine import Engine

from esi_auth.scopes import normalise_scopes
from esi_auth.store._schema import cleanup_positions, metadata, pending_logins, token_scopes, tokens
from esi_auth.store.secrets import InlineSecrets, SecretBox
from esi_auth.token import Token

if TYPE_CHECKING:
    from esi_auth.query import TokenQuery


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) and url != "sqlite:///:memory:" else None


class SQLTokenStore:
    """Tokens for any number of characters and SSO applications (`client_id`)."""

    def __init__(
        self,
        url: str = "sqlite:///tokens.sqlite",
        *,
        secrets: SecretBox | None = None,
        secret_key: bytes | str | None = None,
    ) -> None:
        self.url = url
        self.secrets: SecretBox = secrets or InlineSecrets(secret_key)
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self.engine: Engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)
        self._lock_dir = (
            Path(tempfile.gettempdir()) / f"esikit-locks-{hashlib.sha256(url.encode()).hexdigest()[:16]}"
        )

    def __repr__(self) -> str:
        return f"SQLTokenStore({self.engine.url.render_as_string(hide_password=True)!r})"

    # -- tokens -------------------------------------------------------------------------

    def save(self, token: Token) -> Token:
        """Insert or update; the token's id is set on insert."""
        token.updated_at = time.time()
        values = _row(token)
        with self.engine.begin() as db:
            if token.id is None:
                key = db.execute(insert(tokens).values(**values)).inserted_primary_key
                assert key is not None
                token.id = int(key[0])
                db.execute(insert(token_scopes), [{"token_id": token.id, "scope": s} for s in token.scopes])
            else:
                db.execute(update(tokens).where(tokens.c.id == token.id).values(**values))
                db.execute(delete(token_scopes).where(token_scopes.c.token_id == token.id))
                if token.scopes:
                    db.execute(
                        insert(token_scopes), [{"token_id": token.id, "scope": s} for s in token.scopes]
                    )
            self._seal(db, token)
        return token

    def save_many(self, new_tokens: Sequence[Token]) -> None:
        """Insert many new tokens in one transaction (imports, benchmarks)."""
        with self.engine.begin() as db:
            for token in new_tokens:
                key = db.execute(insert(tokens).values(**_row(token))).inserted_primary_key
                assert key is not None
                token.id = int(key[0])
                self._seal(db, token)
            rows = [{"token_id": t.id, "scope": s} for t in new_tokens for s in t.scopes]
            if rows:
                db.execute(insert(token_scopes), rows)

    def _seal(self, db: Any, token: Token) -> None:
        """Write the token's secrets where the SecretBox keeps them (the row holds its marker)."""
        assert token.id is not None
        db.execute(
            update(tokens)
            .where(tokens.c.id == token.id)
            .values(
                access_token=self.secrets.seal(token.id, "access", token.access_token),
                refresh_token=self.secrets.seal(token.id, "refresh", token.refresh_token),
            )
        )

    def get(self, token_id: int) -> Token | None:
        with self.engine.connect() as db:
            row = db.execute(select(tokens).where(tokens.c.id == token_id)).mappings().first()
        return self._token(row) if row else None

    def delete(self, token_ids: int | Sequence[int]) -> int:
        ids = [token_ids] if isinstance(token_ids, int) else list(token_ids)
        if not ids:
            return 0
        with self.engine.begin() as db:
            db.execute(delete(token_scopes).where(token_scopes.c.token_id.in_(ids)))
            count = db.execute(delete(tokens).where(tokens.c.id.in_(ids))).rowcount
        for token_id in ids:
            self.secrets.forget(token_id)
        return int(count)

    def query(self) -> TokenQuery:
        from esi_auth.query import TokenQuery

        return TokenQuery(self)

    def _token(self, row: Any) -> Token:
        token_id = int(row["id"])
        stored = {"access": row["access_token"], "refresh": row["refresh_token"]}

        def load_secret(kind: str) -> str | None:
            return self.secrets.open(token_id, kind, stored[kind])

        return Token(
            id=token_id,
            character_id=int(row["character_id"]),
            character_name=row["character_name"],
            owner_hash=row["owner_hash"],
            scopes=tuple(row["scopes"].split()),
            client_id=row["client_id"],
            access_token=None,
            refresh_token=None,
            load_secret=load_secret,
            expires_at=float(row["expires_at"]),
            created_at=float(row["created_at"]),
            updated_at=float(row["updated_at"]),
        )

    def tokens_from_rows(self, rows: Sequence[Any]) -> list[Token]:
        return [self._token(row) for row in rows]

    @contextmanager
    def lock(self, token_id: int) -> Iterator[None]:
        """Serialise refreshes of one token across processes (a lock file per token)."""
        self._lock_dir.mkdir(exist_ok=True)
        with FileLock(str(self._lock_dir / f"{token_id}.lock"), timeout=120):
            yield

    def advance_position(self, name: str, modulo: int) -> int:
        """The position a rotating job works on now; the next call gets the following one."""
        with self.engine.begin() as db:
            row = db.execute(
                select(cleanup_positions.c.position).where(cleanup_positions.c.name == name).with_for_update()
            ).first()
            position = int(row[0]) % modulo if row else 0
            if row is None:
                db.execute(insert(cleanup_positions).values(name=name, position=1))
            else:
                db.execute(
                    update(cleanup_positions)
                    .where(cleanup_positions.c.name == name)
                    .values(position=position + 1)
                )
        return position

    def token_ids(self, *, modulo: int = 1, remainder: int = 0) -> list[int]:
        """Ids of the stored tokens whose id % modulo == remainder."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(tokens.c.id).where(tokens.c.id % modulo == remainder).order_by(tokens.c.id)
            )
            return [int(row[0]) for row in rows]

    # -- pending logins (the guide's CallbackRedirect) ------------------------------------

    def add_pending_login(
        self, state: str, verifier: str | None, scopes: Sequence[str], client_id: str, created_at: float
    ) -> None:
        with self.engine.begin() as db:
            db.execute(
                insert(pending_logins).values(
                    state=state,
                    code_verifier=verifier,
                    scopes=" ".join(normalise_scopes(scopes)),
                    client_id=client_id,
                    created_at=created_at,
                )
            )

    def take_pending_login(self, state: str) -> dict[str, Any] | None:
        """The pending login for `state`, removed so that it cannot be used twice."""
        with self.engine.begin() as db:
            row = db.execute(select(pending_logins).where(pending_logins.c.state == state)).mappings().first()
            if row is None:
                return None
            db.execute(delete(pending_logins).where(pending_logins.c.state == state))
        return dict(row)

    def delete_pending_logins_older_than(self, max_age: float, now: float | None = None) -> int:
        cutoff = (time.time() if now is None else now) - max_age
        with self.engine.begin() as db:
            return int(
                db.execute(delete(pending_logins).where(pending_logins.c.created_at < cutoff)).rowcount
            )


def _row(token: Token) -> dict[str, Any]:
    return {
        "character_id": token.character_id,
        "character_name": token.character_name,
        "owner_hash": token.owner_hash,
        "client_id": token.client_id,
        "scopes": " ".join(token.scopes),
        "expires_at": token.expires_at,
        "created_at": token.created_at,
        "updated_at": token.updated_at,
    }


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def default_store() -> SQLTokenStore:
    """Metadata in SQLite under the user's data dir, secrets in the system keyring."""
    from platformdirs import user_data_path

    from esi_auth.store.secrets import KeyringSecrets

    path = user_data_path("esikit") / "tokens.sqlite"
    return SQLTokenStore(f"sqlite:///{path}", secrets=KeyringSecrets())
