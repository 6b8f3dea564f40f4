"""The token store as it was before migrations (esikit 0.1): tokens, scopes, cleanup positions,
pending logins. A store made then is stamped with this revision and upgraded from it."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "esi_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("character_id", sa.Integer, nullable=False),
        sa.Column("character_name", sa.String(100), nullable=False),
        sa.Column("owner_hash", sa.String(200), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("access_token", sa.Text, nullable=True),
        sa.Column("refresh_token", sa.Text, nullable=True),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_esi_tokens_character", "esi_tokens", ["character_id", "client_id"])
    op.create_index("ix_esi_tokens_owner", "esi_tokens", ["owner_hash"])
    op.create_table(
        "esi_token_scopes",
        sa.Column(
            "token_id", sa.Integer, sa.ForeignKey("esi_tokens.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("scope", sa.String(200), primary_key=True),
    )
    op.create_index("ix_esi_token_scopes_scope", "esi_token_scopes", ["scope", "token_id"])
    op.create_table(
        "esi_cleanup_positions",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_table(
        "esi_pending_logins",
        sa.Column("state", sa.String(200), primary_key=True),
        sa.Column("code_verifier", sa.Text, nullable=True),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
