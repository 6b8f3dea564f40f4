"""The token store: tokens, their scopes and pending logins in one SQL database.

SQLite by default (a file created 0600, tightened to 0600 if found looser); any SQLAlchemy URL,
PostgreSQL (psycopg 3) included, for servers. The schema is migrated on open (Alembic). Secrets
go through a SecretBox: encrypted with your key, the keyring, or plaintext by explicit choice;
the store records which, and refuses to be opened otherwise. Refreshes are serialised by the
store's own lock (esi_auth.store.locks), so processes sharing only the database are too.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, delete, event, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from esi_auth.errors import AuthError
from esi_auth.scopes import normalise_scopes
from esi_auth.store._schema import cleanup_positions, pending_logins, token_scopes, tokens
from esi_auth.store.locks import StoreLock
from esi_auth.store.modes import record_secrets_mode, refuse_other_secrets, secrets_mode_recorded
from esi_auth.store.secrets import SecretBox, choose_secrets
from esi_auth.token import Token

logger = logging.getLogger("esi_auth")
POOL_SIZE = 20  # above the client's default concurrency (16): no pool timeouts under load

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
        secrets: SecretBox | str | None = None,
        secret_key: bytes | str | None = None,
    ) -> None:
        """Open (and migrate) the store. Say where its secrets are kept: `secret_key=` (encrypted
        with your Fernet key), `secrets=KeyringSecrets()`, or `secrets="plaintext"`."""
        self.url = url
        shown = _shown_url(url)
        path = _sqlite_file(url)
        self.secrets: SecretBox = choose_secrets(secrets, secret_key, f"the token store {shown}")
        if path is not None:
            _prepare_file(path)
        options: dict[str, Any] = {"future": True}
        if path is not None or not url.startswith("sqlite"):
            options.update(pool_size=POOL_SIZE, max_overflow=POOL_SIZE)
        if not url.startswith("sqlite"):
            options.update(pool_recycle=1800)
        self.engine: Engine = create_engine(url, **options)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        # Single-statement reads need no transaction: on a server database, autocommit makes them
        # one round trip instead of three (BEGIN, the query, ROLLBACK). Writes use `engine`.
        # (SQLite has no round trips; switching its isolation per checkout would cost more.)
        self.reader: Engine = (
            self.engine
            if self.engine.dialect.name == "sqlite"
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._lock = StoreLock(self.engine, path)
        try:
            from esi_auth.store.migrate import serialised, upgrade

            if path is not None:
                _use_wal(self.engine)
            with self.engine.connect() as db:
                facts = refuse_other_secrets(db, self.secrets, shown)  # before anything is migrated
            upgrade(self.engine, shown)
            if not secrets_mode_recorded(facts, self.secrets):  # a new store: one opener at a time
                with serialised(self.engine):
                    record_secrets_mode(self.engine, self.secrets, shown)
        except DBAPIError as exc:
            raise AuthError(f"the token store {shown} cannot be opened: {failure_reason(exc)}") from None

    def __repr__(self) -> str:
        return f"SQLTokenStore({_shown_url(self.url)!r})"

    def describe(self) -> str:
        """Where the store is (no password) and how it keeps secrets, in words."""
        how = {"keyring": "the system keyring", "encrypted": "encrypted", "plaintext": "plaintext"}
        return f"{_shown_url(self.url)} (secrets: {how.get(self.secrets.mode, self.secrets.mode)})"

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
            else:
                db.execute(update(tokens).where(tokens.c.id == token.id).values(**values))
                db.execute(delete(token_scopes).where(token_scopes.c.token_id == token.id))
            if token.scopes:  # a login for identity alone has none
                db.execute(insert(token_scopes), [{"token_id": token.id, "scope": s} for s in token.scopes])
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

    def save_rotation(self, token_id: int, refresh_token: str, access_token: str) -> None:
        """Persist SSO's answer to a refresh before anything else is done with it: the rotated
        refresh token is the only copy. The access token is kept as expired until validated."""
        with self.engine.begin() as db:
            db.execute(
                update(tokens)
                .where(tokens.c.id == token_id)
                .values(
                    refresh_token=self.secrets.seal(token_id, "refresh", refresh_token),
                    access_token=self.secrets.seal(token_id, "access", access_token),
                    expires_at=0.0,
                    updated_at=time.time(),
                )
            )

    def get(self, token_id: int) -> Token | None:
        with self.reader.connect() as db:
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
            owner=row["owner"],
        )

    def tokens_from_rows(self, rows: Sequence[Any]) -> list[Token]:
        return [self._token(row) for row in rows]

    @contextmanager
    def lock(self, token_id: int) -> Iterator[None]:
        """Serialise refreshes of one token for every process that reaches this database."""
        with self._lock.hold(token_id):
            yield

    def advance_position(self, name: str, modulo: int) -> int:
        """The position a rotating job works on now; the next call gets the following one.
        Atomic: concurrent callers (threads, processes, hosts) each get their own position."""
        with self.engine.begin() as db:
            db.execute(_insert_ignoring_duplicates(db.dialect.name, name))
            taken = db.execute(
                update(cleanup_positions)
                .where(cleanup_positions.c.name == name)
                .values(position=cleanup_positions.c.position + 1)
                .returning(cleanup_positions.c.position)
            ).scalar_one()
        return (int(taken) - 1) % modulo

    def token_ids(self, *, modulo: int = 1, remainder: int = 0, client_id: str | None = None) -> list[int]:
        """Ids of the stored tokens whose id % modulo == remainder (of one application, if named)."""
        statement = select(tokens.c.id).where(tokens.c.id % modulo == remainder)
        if client_id is not None:
            statement = statement.where(tokens.c.client_id == client_id)
        with self.engine.connect() as db:
            return [int(row[0]) for row in db.execute(statement.order_by(tokens.c.id))]

    # -- pending logins (the guide's CallbackRedirect) ------------------------------------

    def add_pending_login(
        self,
        state: str,
        verifier: str | None,
        scopes: Sequence[str],
        client_id: str,
        created_at: float,
        *,
        owner: str | None = None,
        return_to: str | None = None,
    ) -> None:
        sealed = self.secrets.seal(0, _verifier_kind(state), verifier)  # kept like the tokens' secrets
        with self.engine.begin() as db:
            db.execute(
                insert(pending_logins).values(
                    state=state,
                    code_verifier=sealed,
                    scopes=" ".join(normalise_scopes(scopes)),
                    client_id=client_id,
                    created_at=created_at,
                    owner=owner,
                    return_to=return_to,
                )
            )

    def take_pending_login(self, state: str) -> dict[str, Any] | None:
        """The pending login for `state`, removed in the same statement: of two simultaneous
        finishes of one login, exactly one gets it."""
        with self.engine.begin() as db:
            row = (
                db.execute(
                    delete(pending_logins).where(pending_logins.c.state == state).returning(*pending_logins.c)
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        pending = dict(row)
        kind = _verifier_kind(state)
        try:
            pending["code_verifier"] = self.secrets.open(0, kind, pending["code_verifier"])
        finally:
            self.secrets.seal(0, kind, None)  # used once: gone from the keyring too
        return pending

    def count_pending_logins(self) -> int:
        from sqlalchemy import func

        with self.engine.connect() as db:
            return int(db.execute(select(func.count()).select_from(pending_logins)).scalar() or 0)

    def delete_pending_logins_older_than(self, max_age: float, now: float | None = None) -> int:
        cutoff = (time.time() if now is None else now) - max_age
        with self.engine.begin() as db:
            states = [
                str(state)
                for state in db.execute(
                    delete(pending_logins)
                    .where(pending_logins.c.created_at < cutoff)
                    .returning(pending_logins.c.state)
                ).scalars()
            ]
        for state in states:
            self.secrets.seal(0, _verifier_kind(state), None)
        return len(states)


def _verifier_kind(state: str) -> str:
    """The secret's name for a pending login's PKCE verifier (a hash: states may be long)."""
    import hashlib

    return "pkce-" + hashlib.sha256(state.encode()).hexdigest()[:32]


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
        "owner": token.owner,
    }


def _shown_url(url: str) -> str:
    """The URL without its password, for messages and reprs; AuthError for one that is not a
    database URL (named by its scheme alone: the rest may hold a password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        scheme, colon, _ = url.partition(":")
        hint = "dialect+driver://user:password@host/database" if colon else f"a file: sqlite:///{url}"
        raise AuthError(
            f"the token store URL {scheme + ':…' if colon else url!r} is not a database URL ({hint})"
        ) from None


def failure_reason(exc: DBAPIError) -> str:
    """What went wrong with the database, in one line (no URL, no secret)."""
    lines = str(exc.orig).strip().splitlines()
    return (lines[0] if lines else type(exc.orig).__name__)[:200]  # a driver error may say nothing


def _prepare_file(path: Path) -> None:
    """The SQLite file exists and only its owner can read it (tokens are in it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        try:
            path.chmod(0o600)
            logger.warning("the token store %s was readable by others (%o): now 0600", path, mode)
        except OSError:
            logger.warning(
                "the token store %s is readable by others (%o) and cannot be tightened", path, mode
            )


def _insert_ignoring_duplicates(dialect: str, name: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(cleanup_positions).values(name=name, position=0).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(cleanup_positions).values(name=name, position=0).on_conflict_do_nothing()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _use_wal(engine: Engine) -> None:
    """WAL (readers and a writer at once; the mode stays with the file). Switching needs the
    file to itself, and an opener switching while another reads gets "database is locked" at
    once, so the openers of a new file switch it one at a time."""
    from esi_auth.store.migrate import serialised

    with engine.connect() as db:
        if db.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal":
            return
    with serialised(engine), engine.connect() as db:
        db.exec_driver_sql("PRAGMA journal_mode=WAL")
