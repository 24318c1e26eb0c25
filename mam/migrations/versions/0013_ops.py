"""ops: fixity audit of stored originals and packages

Revision ID: 0013_ops
Revises: 0008_search_facets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mam.models.core

revision = "0013_ops"
down_revision = "0008_search_facets"
branch_labels = None
depends_on = None

RESULTS = ("ok", "mismatch", "missing", "error")


def upgrade() -> None:
    op.create_table(
        "fixity_object",
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("last_checked_at", mam.models.core.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "last_result",
            sa.Enum(*RESULTS, name="fixityresult", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("damaged", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("storage_key", name=op.f("pk_fixity_object")),
    )
    op.create_index(
        op.f("ix_fixity_object_last_checked_at"), "fixity_object", ["last_checked_at"]
    )
    op.create_table(
        "fixity_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("expected_sha256", sa.String(length=64), nullable=False),
        sa.Column("actual_sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column(
            "result",
            sa.Enum(*RESULTS, name="fixityresult", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("checked_at", mam.models.core.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fixity_check")),
    )
    op.create_index(op.f("ix_fixity_check_storage_key"), "fixity_check", ["storage_key"])
    op.create_index(op.f("ix_fixity_check_checked_at"), "fixity_check", ["checked_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_fixity_check_checked_at"), table_name="fixity_check")
    op.drop_index(op.f("ix_fixity_check_storage_key"), table_name="fixity_check")
    op.drop_table("fixity_check")
    op.drop_index(op.f("ix_fixity_object_last_checked_at"), table_name="fixity_object")
    op.drop_table("fixity_object")
