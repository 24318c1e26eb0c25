"""Release sets, packages, downloads, receipts, screenings; county profile.

Revision ID: 0005_release
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mam.models.core

revision = "0005_release"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "release_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("publish_date", sa.Date(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "draft", "published", "withdrawn", name="releasestate", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("all_counties", sa.Boolean(), nullable=False),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", mam.models.core.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", mam.models.core.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", mam.models.core.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_release_set_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_set")),
        sa.UniqueConstraint("name", name=op.f("uq_release_set_name")),
    )
    with op.batch_alter_table("release_set", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_release_set_state"), ["state"], unique=False)

    op.create_table(
        "receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", mam.models.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_receipt_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["release_id"], ["release_set.id"], name=op.f("fk_receipt_release_id_release_set")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_receipt_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt")),
        sa.UniqueConstraint("release_id", "county_id", name=op.f("uq_receipt_release_id")),
    )
    op.create_table(
        "release_package",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("tv", "playback", "web", name="packagekind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "building",
                "ready",
                "failed",
                name="packagestate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("progress", sa.Double(), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("files", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("built_at", mam.models.core.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["release_set.id"],
            name=op.f("fk_release_package_release_id_release_set"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_package")),
        sa.UniqueConstraint("release_id", "kind", name=op.f("uq_release_package_release_id")),
    )
    op.create_table(
        "release_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_release_target_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["release_set.id"],
            name=op.f("fk_release_target_release_id_release_set"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_target")),
        sa.UniqueConstraint("release_id", "county_id", name=op.f("uq_release_target_release_id")),
    )
    op.create_table(
        "screening",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("screened_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("viewers", sa.Integer(), nullable=False),
        sa.Column("reported_at", mam.models.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_screening_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["release_id"], ["release_set.id"], name=op.f("fk_screening_release_id_release_set")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_screening_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening")),
    )
    with op.batch_alter_table("screening", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_screening_county_id"), ["county_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_screening_release_id"), ["release_id"], unique=False)

    op.create_table(
        "download",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("range_start", sa.BigInteger(), nullable=False),
        sa.Column("bytes_sent", sa.BigInteger(), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("started_at", mam.models.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_download_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["release_package.id"],
            name=op.f("fk_download_package_id_release_package"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_download_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_download")),
    )
    with op.batch_alter_table("download", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_download_county_id"), ["county_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_download_package_id"), ["package_id"], unique=False)

    op.create_table(
        "release_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_release_item_episode_id_episode")
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["release_set.id"],
            name=op.f("fk_release_item_release_id_release_set"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["version.id"], name=op.f("fk_release_item_version_id_version")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_item")),
        sa.UniqueConstraint("release_id", "episode_id", name=op.f("uq_release_item_release_id")),
    )
    with op.batch_alter_table("county", schema=None) as batch_op:
        batch_op.add_column(sa.Column("villages", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("playback_points", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("county", schema=None) as batch_op:
        batch_op.drop_column("playback_points")
        batch_op.drop_column("villages")

    op.drop_table("release_item")
    with op.batch_alter_table("download", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_download_package_id"))
        batch_op.drop_index(batch_op.f("ix_download_county_id"))

    op.drop_table("download")
    with op.batch_alter_table("screening", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screening_release_id"))
        batch_op.drop_index(batch_op.f("ix_screening_county_id"))

    op.drop_table("screening")
    op.drop_table("release_target")
    op.drop_table("release_package")
    op.drop_table("receipt")
    with op.batch_alter_table("release_set", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_release_set_state"))

    op.drop_table("release_set")
