"""Assessment rollup: point-year links, so coverage reads one row per point for any period.

``assessment_point_year`` gains ``before`` / ``after`` (the point's last screened month
before the row's year and first after it, as ``year × 12 + month − 1``) and rows for the
empty years between a point's screened years; an index on (year, before) finds a year's rows
and the points first screened in a year. Back-filled by
``mam.services.assessment_rollup.rebuild_point_years`` (as ``mam assessment rebuild-rollup``).

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
    from mam.services.assessment_rollup import rebuild_point_years  # noqa: PLC0415 - back-fill

    with Session(bind=op.get_bind()) as session:
        rebuild_point_years(session)
        session.flush()


def downgrade() -> None:
    op.execute("DELETE FROM assessment_point_year WHERE months = 0")
    with op.batch_alter_table("assessment_point_year") as batch:
        batch.drop_index("ix_assessment_point_year_chain")
        batch.drop_column("after")
        batch.drop_column("before")
