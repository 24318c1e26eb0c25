"""subtitles end to end: per-version rows with revisions, cues and their CJK bigrams for search

Revision ID: 0023_subtitles
Revises: 0022_merge_session4
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_subtitles"
down_revision = "0022_merge_session4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subtitle") as batch:
        batch.add_column(sa.Column("version_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("is_current", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
        batch.create_foreign_key(
            op.f("fk_subtitle_version_id_version"),
            "version",
            ["version_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_subtitle_version_id"), ["version_id"])
    op.create_table(
        "subtitle_cue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subtitle_id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subtitle_id"],
            ["subtitle.id"],
            name=op.f("fk_subtitle_cue_subtitle_id_subtitle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"],
            ["episode.id"],
            name=op.f("fk_subtitle_cue_episode_id_episode"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subtitle_cue")),
    )
    op.create_index(op.f("ix_subtitle_cue_subtitle_id"), "subtitle_cue", ["subtitle_id"])
    op.create_index(op.f("ix_subtitle_cue_episode_id"), "subtitle_cue", ["episode_id"])
    op.create_table(
        "subtitle_cue_gram",
        sa.Column("gram", sa.String(length=2), nullable=False),
        sa.Column("cue_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cue_id"],
            ["subtitle_cue.id"],
            name=op.f("fk_subtitle_cue_gram_cue_id_subtitle_cue"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("gram", "cue_id", name=op.f("pk_subtitle_cue_gram")),
    )
    op.create_index(op.f("ix_subtitle_cue_gram_cue_id"), "subtitle_cue_gram", ["cue_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_subtitle_cue_gram_cue_id"), table_name="subtitle_cue_gram")
    op.drop_table("subtitle_cue_gram")
    op.drop_index(op.f("ix_subtitle_cue_episode_id"), table_name="subtitle_cue")
    op.drop_index(op.f("ix_subtitle_cue_subtitle_id"), table_name="subtitle_cue")
    op.drop_table("subtitle_cue")
    with op.batch_alter_table("subtitle") as batch:
        batch.drop_index(op.f("ix_subtitle_version_id"))
        batch.drop_constraint(op.f("fk_subtitle_version_id_version"), type_="foreignkey")
        batch.drop_column("revision")
        batch.drop_column("is_current")
        batch.drop_column("version_id")
