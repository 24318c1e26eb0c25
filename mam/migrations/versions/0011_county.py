"""county: API tokens get scopes and an optional expiry

Revision ID: 0011_county
Revises: 0008_search_facets

Tokens made before this revision keep working as full ``api`` tokens without expiry.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mam.models.core

revision = "0011_county"
down_revision = "0008_search_facets"
branch_labels = None
depends_on = None

UTC = mam.models.core.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(
            sa.Column("scopes", sa.String(length=200), server_default="api", nullable=False)
        )
        batch.add_column(sa.Column("expires_at", UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("scopes")
