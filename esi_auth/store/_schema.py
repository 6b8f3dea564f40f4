"""Tables of the token store (portable SQL: SQLite and PostgreSQL), as the newest migration
leaves them (esi_auth/store/migrations): queries are built from these, tables made by Alembic."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

tokens = Table(
    "esi_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("character_id", Integer, nullable=False),
    Column("character_name", String(100), nullable=False),
    Column("owner_hash", String(200), nullable=False),
    Column("client_id", String(200), nullable=False),
    Column("scopes", Text, nullable=False),  # sorted, space-separated: exact matches compare this
    Column("access_token", Text, nullable=True),  # secrets: inline (maybe encrypted) or keyring
    Column("refresh_token", Text, nullable=True),
    Column("expires_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("owner", String(200), nullable=True),  # the site's user id; None: a CLI user's token
    Index("ix_esi_tokens_character", "character_id", "client_id"),
    Index("ix_esi_tokens_owner_client", "owner", "client_id"),
    Index("ix_esi_tokens_owner", "owner_hash"),
    sqlite_autoincrement=True,  # a deleted token's id is never given to another token
)

# Facts about the store itself: how its secrets are kept (and a value to check the key with).
store_meta = Table(
    "esi_store_meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

# One row per (token, scope): `require_scopes` is an indexed lookup, not a scan of every token.
token_scopes = Table(
    "esi_token_scopes",
    metadata,
    Column("token_id", Integer, ForeignKey("esi_tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("scope", String(200), primary_key=True),
    Index("ix_esi_token_scopes_scope", "scope", "token_id"),
)

# Where each rotating cleanup job stands in its cycle.
cleanup_positions = Table(
    "esi_cleanup_positions",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
)

pending_logins = Table(
    "esi_pending_logins",
    metadata,
    Column("state", String(200), primary_key=True),
    Column("code_verifier", Text, nullable=True),
    Column("scopes", Text, nullable=False),
    Column("client_id", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("owner", String(200), nullable=True),
    Column("return_to", Text, nullable=True),  # a web login's page to go back to
)
