"""Uploads: the saved SHA-256 state and the S3 multipart upload (id and parts) of a session.

Revision ID: 0007_upload_parts
Revises: 0006_merge_areas
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_upload_parts"
down_revision = "0006_merge_areas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("upload_session") as batch:
        batch.add_column(sa.Column("sha256_state", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("multipart_id", sa.String(length=1024), nullable=True))
        batch.add_column(sa.Column("parts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("upload_session") as batch:
        batch.drop_column("parts")
        batch.drop_column("multipart_id")
        batch.drop_column("sha256_state")
