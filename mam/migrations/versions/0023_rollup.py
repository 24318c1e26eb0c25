"""Assessment rollup (汇总表) and learners tied to playback points.

* ``assessment_month`` (per county, township, month) and ``assessment_point_year`` (per point
  and year, a bit per month with a held screening), back-filled from the raw rows by
  ``mam.services.assessment_rollup.rebuild`` (the same as ``mam assessment rebuild-rollup``);
* ``learner.point_id`` becomes a foreign key to ``playback_point`` (a point id that names no
  point is cleared first: there was no key before).

Revision ID: 0023_rollup
Revises: 0022_merge_session4
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0023_rollup"
down_revision = "0022_merge_session4"
branch_labels = None
depends_on = None

COUNTERS = ("planned", "done", "held", "moved", "not_held", "attendance", "party_members", "masses")


def upgrade() -> None:
    op.create_table(
        "assessment_month",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in COUNTERS),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_assessment_month_county_id_county")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_month")),
        sa.UniqueConstraint("county_id", "township_id", "month", name="uq_assessment_month"),
    )
    op.create_index("ix_assessment_month_township", "assessment_month", ["township_id", "month"])
    op.create_table(
        "assessment_county_month",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in COUNTERS),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_assessment_county_month_county_id_county")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_county_month")),
        sa.UniqueConstraint("county_id", "month", name="uq_assessment_county_month"),
    )
    op.create_table(
        "assessment_point_year",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_assessment_point_year_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["playback_point.id"],
            name=op.f("fk_assessment_point_year_point_id_playback_point"),
        ),
        sa.ForeignKeyConstraint(
            ["township_id"],
            ["township.id"],
            name=op.f("fk_assessment_point_year_township_id_township"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_point_year")),
        sa.UniqueConstraint("point_id", "year", name="uq_assessment_point_year"),
    )
    op.create_index(
        "ix_assessment_point_year_groups",
        "assessment_point_year",
        ["county_id", "year", "township_id", "point_id", "months"],
    )
    op.create_index(
        "ix_assessment_point_year_township", "assessment_point_year", ["township_id", "year"]
    )
    op.create_table(
        "assessment_film",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("first_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_assessment_film_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_assessment_film_episode_id_episode")
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["release_set.id"],
            name=op.f("fk_assessment_film_release_id_release_set"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_film")),
        sa.UniqueConstraint("county_id", "release_id", "episode_id", name="uq_assessment_film"),
    )
    op.create_table(
        "assessment_release_month",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("films", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_assessment_release_month_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["release_set.id"],
            name=op.f("fk_assessment_release_month_release_id_release_set"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_release_month")),
        sa.UniqueConstraint("county_id", "release_id", "month", name="uq_assessment_release_month"),
    )
    op.execute(
        "UPDATE learner SET point_id = NULL WHERE point_id IS NOT NULL AND point_id NOT IN "
        "(SELECT id FROM playback_point)"
    )
    with op.batch_alter_table("learner") as batch:
        batch.create_foreign_key(
            op.f("fk_learner_point_id_playback_point"), "playback_point", ["point_id"], ["id"]
        )
    from mam.services.assessment_rollup import rebuild  # noqa: PLC0415 - the back-fill

    with Session(bind=op.get_bind()) as session:
        rebuild(session, chain_points=False)  # the point-year links come in 0025_rollup_fast
        session.flush()


def downgrade() -> None:
    with op.batch_alter_table("learner") as batch:
        batch.drop_constraint(op.f("fk_learner_point_id_playback_point"), type_="foreignkey")
    op.drop_table("assessment_release_month")
    op.drop_table("assessment_film")
    op.drop_index("ix_assessment_point_year_township", table_name="assessment_point_year")
    op.drop_index("ix_assessment_point_year_groups", table_name="assessment_point_year")
    op.drop_table("assessment_point_year")
    op.drop_table("assessment_county_month")
    op.drop_index("ix_assessment_month_township", table_name="assessment_month")
    op.drop_table("assessment_month")
