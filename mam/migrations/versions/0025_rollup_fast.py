"""Assessment rollup: point-year links (coverage reads one row per point for any period) and
the network per township (build-out and coverage's denominator without every point).

``assessment_point_year`` gains ``before`` / ``after`` (the point's last screened month
before the row's year and first after it, as ``year × 12 + month − 1``) and rows for the
empty years between a point's screened years; an index on (year, before) finds a year's rows
and the points first screened in a year. Back-filled by
``mam.services.assessment_rollup.rebuild_point_years``; ``assessment_township_network``
holds each township's active points, active organisations and those an active point serves,
back-filled by ``rebuild_township_network`` (both as ``mam assessment rebuild-rollup``).

Revision ID: 0025_rollup_fast
Revises: 0024_merge_session5
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0025_rollup_fast"
down_revision = "0024_merge_session5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessment_point_year") as batch:
        batch.add_column(sa.Column("before", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("after", sa.Integer(), nullable=True))
        batch.create_index("ix_assessment_point_year_chain", ["year", "before"])
    op.create_table(
        "assessment_township_network",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("organisations", sa.Integer(), nullable=False),
        sa.Column("served", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"],
            ["county.id"],
            name=op.f("fk_assessment_township_network_county_id_county"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_township_network")),
        sa.UniqueConstraint("township_id", name="uq_assessment_township_network"),
    )
    op.create_index(
        "ix_assessment_township_network_county", "assessment_township_network", ["county_id"]
    )
    from mam.services.assessment_rollup import (  # noqa: PLC0415 - the back-fill
        rebuild_point_years,
        rebuild_township_network,
    )

    with Session(bind=op.get_bind()) as session:
        rebuild_point_years(session)
        rebuild_township_network(session)
        session.flush()


def downgrade() -> None:
    op.drop_index("ix_assessment_township_network_county", table_name="assessment_township_network")
    op.drop_table("assessment_township_network")
    op.execute("DELETE FROM assessment_point_year WHERE months = 0")
    with op.batch_alter_table("assessment_point_year") as batch:
        batch.drop_index("ix_assessment_point_year_chain")
        batch.drop_column("after")
        batch.drop_column("before")
