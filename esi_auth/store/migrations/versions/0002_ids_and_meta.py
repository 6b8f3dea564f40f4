"""Token ids are never reused (SQLite: AUTOINCREMENT; PostgreSQL's sequences never reuse), and
the store records how it keeps secrets (esi_store_meta)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

_COLUMNS = (
    "id, character_id, character_name, owner_hash, client_id, scopes, access_token, refresh_token,"
    " expires_at, created_at, updated_at"
)


def upgrade() -> None:
    op.create_table(
        "esi_store_meta",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name != "sqlite":
        return
    # SQLite reuses the highest deleted rowid unless the table is AUTOINCREMENT: rebuild it.
    # (The connection runs with foreign keys off here, so the scopes rows stay.)
    op.execute(
        "CREATE TABLE esi_tokens_new (id INTEGER PRIMARY KEY AUTOINCREMENT, character_id INTEGER NOT NULL,"
        " character_name VARCHAR(100) NOT NULL, owner_hash VARCHAR(200) NOT NULL,"
        " client_id VARCHAR(200) NOT NULL, scopes TEXT NOT NULL, access_token TEXT, refresh_token TEXT,"
        " expires_at FLOAT NOT NULL, created_at FLOAT NOT NULL, updated_at FLOAT NOT NULL)"
    )
    op.execute(f"INSERT INTO esi_tokens_new ({_COLUMNS}) SELECT {_COLUMNS} FROM esi_tokens")  # noqa: S608
    op.execute("DROP TABLE esi_tokens")
    op.execute("ALTER TABLE esi_tokens_new RENAME TO esi_tokens")
    op.create_index("ix_esi_tokens_character", "esi_tokens", ["character_id", "client_id"])
    op.create_index("ix_esi_tokens_owner", "esi_tokens", ["owner_hash"])
