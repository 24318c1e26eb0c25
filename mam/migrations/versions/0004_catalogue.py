"""catalogue: topics, episode details, subtitles, upload sessions, API tokens, search rows

Revision ID: 0004_catalogue
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import mam.models.core

revision = "0004_catalogue"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = mam.models.core.UTCDateTime(timezone=True)
TOPICS = ("理论学习", "党的建设", "先进典型", "警示教育", "政策法规", "科技富民/农业技术", "文化生活")


def upgrade() -> None:
    topic = op.create_table(
        "topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topic")),
        sa.UniqueConstraint("name", name=op.f("uq_topic_name")),
    )
    op.bulk_insert(
        topic, [{"name": n, "position": i, "active": True} for i, n in enumerate(TOPICS)]
    )
    op.create_table(
        "episode_topic",
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_episode_topic_episode_id_episode"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topic.id"], name=op.f("fk_episode_topic_topic_id_topic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("episode_id", "topic_id", name=op.f("pk_episode_topic")),
    )
    op.create_index(op.f("ix_episode_topic_episode_id"), "episode_topic", ["episode_id"])
    op.create_index(op.f("ix_episode_topic_topic_id"), "episode_topic", ["topic_id"])
    op.create_table(
        "episode_detail",
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("producer", sa.String(length=100), nullable=False),
        sa.Column("production_date", sa.Date(), nullable=True),
        sa.Column("language", sa.String(length=50), nullable=False),
        sa.Column("rights_holder", sa.String(length=200), nullable=False),
        sa.Column("rights_expiry", sa.Date(), nullable=True),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_episode_detail_episode_id_episode"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("episode_id", name=op.f("pk_episode_detail")),
    )
    op.create_table(
        "subtitle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=50), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("original_filename", sa.String(length=255), nullable=False),
        sa.Column("cue_count", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_subtitle_episode_id_episode"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["user_account.id"],
            name=op.f("fk_subtitle_uploaded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subtitle")),
    )
    op.create_index(op.f("ix_subtitle_episode_id"), "subtitle", ["episode_id"])
    op.create_table(
        "upload_session",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "open", "done", "failed", "expired", "cancelled",
                name="uploadstate", native_enum=False, length=32,
            ),
            nullable=False,
        ),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_upload_session_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["version.id"], name=op.f("fk_upload_session_version_id_version"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_session")),
    )
    op.create_index(op.f("ix_upload_session_user_id"), "upload_session", ["user_id"])
    op.create_index(op.f("ix_upload_session_state"), "upload_session", ["state"])
    op.create_index(op.f("ix_upload_session_expires_at"), "upload_session", ["expires_at"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_used_at", UTC, nullable=True),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_api_token_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_index(op.f("ix_api_token_user_id"), "api_token", ["user_id"])
    op.create_table(
        "episode_search",
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"),
                  nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("source_type", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("latest_version_id", sa.Integer(), nullable=True),
        sa.Column("sort_title", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_episode_search_episode_id_episode"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"],
            name=op.f("fk_episode_search_programme_id_programme"),
        ),
        sa.ForeignKeyConstraint(
            ["latest_version_id"], ["version.id"],
            name=op.f("fk_episode_search_latest_version_id_version"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("episode_id", name=op.f("pk_episode_search")),
    )
    op.create_index(op.f("ix_episode_search_programme_id"), "episode_search", ["programme_id"])
    op.create_index(op.f("ix_episode_search_source_type"), "episode_search", ["source_type"])
    op.create_index(op.f("ix_episode_search_year"), "episode_search", ["year"])
    op.create_index(
        op.f("ix_episode_search_latest_version_id"), "episode_search", ["latest_version_id"]
    )
    op.create_index(
        "ix_episode_search_document", "episode_search", ["document"], postgresql_using="gin"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":  # the FTS5 mirror mam.search creates on first use
        op.execute("DROP TABLE IF EXISTS episode_fts")
    op.drop_table("episode_search")
    op.drop_table("api_token")
    op.drop_table("upload_session")
    op.drop_table("subtitle")
    op.drop_table("episode_detail")
    op.drop_table("episode_topic")
    op.drop_table("topic")
