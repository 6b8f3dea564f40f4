"""Bringing a store's schema to this version with Alembic, on open or by `esi store upgrade`.

A store made before migrations existed (its tables are there, `alembic_version` is not) is
stamped with the baseline and upgraded from it. Opening a store that is already current costs
one SELECT: Alembic is imported only when there is something to do. Concurrent openers are
serialised (PostgreSQL: an advisory lock; SQLite: a lock file beside the database), and the
revision is read again under the lock. Migrations only go forward: a store at a revision this
esikit does not know (made by a newer one) is refused, unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from esi_auth.errors import AuthError

REVISIONS = ("0001", "0002", "0003")  # migrations/versions, oldest first (a test checks they agree)
HEAD = REVISIONS[-1]
BASELINE = REVISIONS[0]
LOCK_TIMEOUT_SECONDS = 300.0
_MIGRATION_LOCK = 0x65736B69  # "eski": the advisory lock key of schema upgrades


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return BASELINE if inspect(connection).has_table("esi_tokens") else None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, shown: str | None = None) -> str | None:
    """Upgrade to HEAD; the revision the store was at before (None: it was empty). `shown`: the
    store's URL as messages show it (no password)."""
    where = shown or engine.url.render_as_string(hide_password=True)
    with engine.connect() as probe:
        if _known(current_revision(probe), where) == HEAD:
            return HEAD
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with serialised(engine), engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # table rebuilds keep child rows
        elif connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
        try:
            before = _known(current_revision(connection), where)  # another opener may be done
            connection.commit()
            if before == HEAD:
                return before
            config.attributes["connection"] = connection
            if before == BASELINE and not inspect(connection).has_table("alembic_version"):
                command.stamp(config, BASELINE)
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            elif connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
                connection.commit()
    return before


def _known(revision: str | None, where: str) -> str | None:
    if revision is None or revision in REVISIONS:
        return revision
    raise AuthError(
        f"the token store {where} is at schema revision {revision}; this esikit knows up to {HEAD}: "
        "upgrade esikit to open it (migrations only go forward; to go back, restore a backup "
        "made before the upgrade); nothing was changed"
    )


@contextmanager
def serialised(engine: Engine) -> Iterator[None]:
    """SQLite has no advisory locks: openers of one file take a lock file beside it (for the
    schema upgrade, and for recording the store's facts the first time: a read-then-write
    transaction in WAL mode fails at once, "database is locked", if another wrote meanwhile)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    from filelock import FileLock

    with FileLock(f"{database}.migrate.lock", timeout=LOCK_TIMEOUT_SECONDS, mode=0o600):
        yield
