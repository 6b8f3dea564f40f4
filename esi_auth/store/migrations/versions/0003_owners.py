"""Tokens and pending logins belong to someone: `owner`, the site's own user id (an opaque string
the app chooses; none for a CLI user's tokens). Pending logins also keep the page to return to."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("esi_tokens") as table:
        table.add_column(sa.Column("owner", sa.String(200), nullable=True))
    op.create_index("ix_esi_tokens_owner_client", "esi_tokens", ["owner", "client_id"])
    with op.batch_alter_table("esi_pending_logins") as table:
        table.add_column(sa.Column("owner", sa.String(200), nullable=True))
        table.add_column(sa.Column("return_to", sa.Text, nullable=True))
