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
    with op.batch_alter_table("county") as batch:
        batch.add_column(sa.Column("logo_key", sa.String(300), nullable=True))
    with op.batch_alter_table("release_set") as batch:
        batch.add_column(sa.Column("logo_key", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("release_set") as batch:
        batch.drop_column("logo_key")
    with op.batch_alter_table("county") as batch:
        batch.drop_column("logo_key")
