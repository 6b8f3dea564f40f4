"""Bringing a store's schema to this version with Alembic, on open or by `esi store upgrade`.

A store made before migrations existed (its tables are there, `alembic_version` is not) is
stamped with the baseline and upgraded from it. Opening a store that is already current costs
one SELECT: Alembic is imported only when there is something to do. Concurrent openers are
serialised (PostgreSQL: an advisory lock; SQLite: the store's lock file).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

HEAD = "0003"  # the newest revision in migrations/versions (a test checks they agree)
BASELINE = "0001"
_MIGRATION_LOCK = 0x65736B69  # "eski": the advisory lock key of schema upgrades


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return BASELINE if inspect(connection).has_table("esi_tokens") else None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> str | None:
    """Upgrade to HEAD; the revision the store was at before (None: it was empty)."""
    with engine.connect() as probe:
        if current_revision(probe) == HEAD:
            return HEAD
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # table rebuilds keep child rows
        elif connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
        try:
            before = current_revision(connection)
            connection.commit()
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
