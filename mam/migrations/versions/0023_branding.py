"""Station branding: a county's and a release set's own logo (storage keys of PNGs).

Revision ID: 0023_branding
Revises: 0022_merge_session4
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_branding"
down_revision = "0022_merge_session4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column is a plain ADD COLUMN on SQLite too: no table is rebuilt (a
    # rebuild of release_set would trip the foreign keys that point at it).
    op.add_column("county", sa.Column("logo_key", sa.String(300), nullable=True))
    op.add_column("release_set", sa.Column("logo_key", sa.String(300), nullable=True))


def downgrade() -> None:
    for table in ("release_set", "county"):
        if op.get_bind().dialect.name == "sqlite":  # SQLite >= 3.35: no rebuild either
            op.execute(f"ALTER TABLE {table} DROP COLUMN logo_key")
        else:
            op.drop_column(table, "logo_key")
