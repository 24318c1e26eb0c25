"""Online learning: learner profiles, study records, HLS segments served to learners.

Revision ID: 0020_learning
Revises: 0015_merge_session3

The ``learner`` role needs no schema change (roles are stored as plain strings).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mam.models import UTCDateTime

revision = "0020_learning"
down_revision = "0015_merge_session3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_learner_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_learner_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_learner_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learner")),
        sa.UniqueConstraint("phone", name=op.f("uq_learner_phone")),
        sa.UniqueConstraint("user_id", name=op.f("uq_learner_user_id")),
    )
    op.create_index(op.f("ix_learner_county_id"), "learner", ["county_id"])
    op.create_index(op.f("ix_learner_point_id"), "learner", ["point_id"])
    op.create_table(
        "study_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("watched_seconds", sa.Float(), nullable=False),
        sa.Column("position", sa.Float(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("credit_clock", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_study_record_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_study_record_episode_id_episode")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_study_record_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["version.id"], name=op.f("fk_study_record_version_id_version")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_record")),
        sa.UniqueConstraint("user_id", "episode_id", name=op.f("uq_study_record_user_id")),
    )
    for column in ("completed_at", "episode_id", "started_at", "user_id"):
        op.create_index(op.f(f"ix_study_record_{column}"), "study_record", [column])
    op.create_index(
        "ix_study_record_county_id_completed_at", "study_record", ["county_id", "completed_at"]
    )
    op.create_table(
        "study_segment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("login_session_id", sa.Integer(), nullable=True),
        sa.Column("served_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["login_session_id"],
            ["login_session.id"],
            name=op.f("fk_study_segment_login_session_id_login_session"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_study_segment_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["version.id"], name=op.f("fk_study_segment_version_id_version")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_segment")),
        sa.UniqueConstraint(
            "user_id", "version_id", "sequence", name=op.f("uq_study_segment_user_id")
        ),
    )
    op.create_index(op.f("ix_study_segment_user_id"), "study_segment", ["user_id"])
    op.create_table(
        "study_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_study_day_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_study_day_episode_id_episode")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_study_day_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_day")),
        sa.UniqueConstraint("user_id", "episode_id", "day", name=op.f("uq_study_day_user_id")),
    )
    op.create_index(op.f("ix_study_day_day"), "study_day", ["day"])
    op.create_index("ix_study_day_county_id_day", "study_day", ["county_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_study_day_county_id_day", table_name="study_day")
    op.drop_index(op.f("ix_study_day_day"), table_name="study_day")
    op.drop_table("study_day")
    op.drop_index(op.f("ix_study_segment_user_id"), table_name="study_segment")
    op.drop_table("study_segment")
    op.drop_index("ix_study_record_county_id_completed_at", table_name="study_record")
    for column in ("completed_at", "episode_id", "started_at", "user_id"):
        op.drop_index(op.f(f"ix_study_record_{column}"), table_name="study_record")
    op.drop_table("study_record")
    op.drop_index(op.f("ix_learner_point_id"), table_name="learner")
    op.drop_index(op.f("ix_learner_county_id"), table_name="learner")
    op.drop_table("learner")
