"""Processing results: QC report, loudness measurement, thumbnail set (one row per version).

Revision ID: 0002_processing
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mam.models.core

revision = "0002_processing"
down_revision = "0001"
branch_labels = None
depends_on = None


def _version_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["version_id"],
        ["version.id"],
        name=op.f(f"fk_{table}_version_id_version"),
        ondelete="CASCADE",
    )


def _created_at() -> sa.Column[object]:
    return sa.Column("created_at", mam.models.core.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "qc_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column(
            "verdict",
            sa.Enum("pass", "warn", "fail", name="qcverdict", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_qc_report_job_id_job"), ondelete="SET NULL"
        ),
        _version_fk("qc_report"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qc_report")),
        sa.UniqueConstraint("version_id", name=op.f("uq_qc_report_version_id")),
    )
    op.create_table(
        "loudness_measurement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("integrated", sa.Float(), nullable=True),
        sa.Column("true_peak", sa.Float(), nullable=True),
        sa.Column("lra", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("results", sa.JSON(), nullable=False),
        _created_at(),
        _version_fk("loudness_measurement"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loudness_measurement")),
        sa.UniqueConstraint("version_id", name=op.f("uq_loudness_measurement_version_id")),
    )
    op.create_table(
        "thumbnail_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("thumbnails", sa.JSON(), nullable=False),
        sa.Column("sprite_keys", sa.JSON(), nullable=False),
        sa.Column("vtt_key", sa.String(length=300), nullable=True),
        sa.Column("layout", sa.JSON(), nullable=False),
        _created_at(),
        _version_fk("thumbnail_set"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thumbnail_set")),
        sa.UniqueConstraint("version_id", name=op.f("uq_thumbnail_set_version_id")),
    )


def downgrade() -> None:
    op.drop_table("thumbnail_set")
    op.drop_table("loudness_measurement")
    op.drop_table("qc_report")
