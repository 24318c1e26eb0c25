"""Assessment (目标考核): indexes for the dashboards' grouped queries.

The dashboards group plan entries by month and township (then county), and screenings by
month and county, township or point; these indexes let PostgreSQL answer them from the
index alone (bench/assessment.py measures with and without them). No table changes.

Revision ID: 0021_assessment
Revises: 0019_network
"""

from __future__ import annotations

from alembic import op

revision = "0021_assessment"
down_revision = "0019_network"
branch_labels = None
depends_on = None

# (name, table, columns); bench/assessment.py lists the same to time the queries without them.
INDEXES = [
    ("ix_plan_entry_day_plan", "plan_entry", ["planned_on", "plan_id"]),
    (
        "ix_screening_day_groups",
        "screening",
        [
            "screened_on",
            "county_id",
            "township_id",
            "point_id",
            "outcome",
            "viewers",
            "plan_entry_id",
        ],
    ),
    (
        "ix_screening_county_film",
        "screening",
        ["county_id", "release_id", "episode_id", "outcome", "screened_on"],
    ),
    (
        "ix_screening_township_film",
        "screening",
        ["township_id", "release_id", "episode_id", "outcome", "screened_on"],
    ),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
