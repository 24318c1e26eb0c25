"""review: stages, stage grants, programme editors, decisions, comments, QC waivers

Revision ID: 0003_review
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mam.models.core

revision = "0003_review"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = mam.models.core.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    op.create_table(
        "review_stage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_stage")),
        sa.UniqueConstraint("code", name=op.f("uq_review_stage_code")),
        sa.UniqueConstraint("name", name=op.f("uq_review_stage_name")),
    )
    op.create_table(
        "reviewer_stage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_reviewer_stage_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["review_stage.id"],
            name=op.f("fk_reviewer_stage_stage_id_review_stage"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviewer_stage")),
        sa.UniqueConstraint("user_id", "stage_id", name=op.f("uq_reviewer_stage_user_id")),
    )
    op.create_table(
        "programme_editor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_programme_editor_programme_id_programme"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_programme_editor_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_editor")),
        sa.UniqueConstraint(
            "programme_id", "user_id", name=op.f("uq_programme_editor_programme_id")
        ),
    )
    op.create_table(
        "review_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "signed", "changes_requested", name="decisionkind", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", UTC, nullable=False),
        sa.Column("voided_at", UTC, nullable=True),
        sa.Column("voided_by_version_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"], ["version.id"], name=op.f("fk_review_decision_version_id_version")
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"], ["review_stage.id"], name=op.f("fk_review_decision_stage_id_review_stage")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["user_account.id"],
            name=op.f("fk_review_decision_reviewer_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decision")),
    )
    op.create_index(
        op.f("ix_review_decision_version_id"), "review_decision", ["version_id"], unique=False
    )
    op.create_table(
        "review_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("start_frame", sa.Integer(), nullable=True),
        sa.Column("end_frame", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("resolved_at", UTC, nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["version.id"], name=op.f("fk_review_comment_version_id_version")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["review_comment.id"],
            name=op.f("fk_review_comment_parent_id_review_comment"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_review_comment_author_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["user_account.id"],
            name=op.f("fk_review_comment_resolved_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_comment")),
    )
    op.create_index(
        op.f("ix_review_comment_version_id"), "review_comment", ["version_id"], unique=False
    )
    op.create_index(
        op.f("ix_review_comment_parent_id"), "review_comment", ["parent_id"], unique=False
    )
    op.create_table(
        "qc_waiver",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["version.id"], name=op.f("fk_qc_waiver_version_id_version")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["user_account.id"], name=op.f("fk_qc_waiver_reviewer_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qc_waiver")),
    )
    op.create_index(op.f("ix_qc_waiver_version_id"), "qc_waiver", ["version_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_qc_waiver_version_id"), table_name="qc_waiver")
    op.drop_table("qc_waiver")
    op.drop_index(op.f("ix_review_comment_parent_id"), table_name="review_comment")
    op.drop_index(op.f("ix_review_comment_version_id"), table_name="review_comment")
    op.drop_table("review_comment")
    op.drop_index(op.f("ix_review_decision_version_id"), table_name="review_decision")
    op.drop_table("review_decision")
    op.drop_table("programme_editor")
    op.drop_table("reviewer_stage")
    op.drop_table("review_stage")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("email")
