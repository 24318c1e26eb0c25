"""scale out: the pieces of a chunked ladder run (claims, leases, staged keys)

Revision ID: 0025_scaleout
Revises: 0024_merge_session5
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mam.models.core import UTCDateTime

revision = "0025_scaleout"
down_revision = "0024_merge_session5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ladder_piece",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("keys", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_ladder_piece_job_id_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ladder_piece")),
        sa.UniqueConstraint("job_id", "attempt", "name", name=op.f("uq_ladder_piece_job_id")),
    )
    op.create_index(op.f("ix_ladder_piece_job_id"), "ladder_piece", ["job_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ladder_piece_job_id"), table_name="ladder_piece")
    op.drop_table("ladder_piece")
