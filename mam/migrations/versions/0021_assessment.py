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
    ("ix_plan_entry_day_plan", "plan_entry", ["planned_on", "plan_id", "id"]),
    ("ix_screening_day_county", "screening", ["screened_on", "county_id", "outcome", "viewers"]),
    ("ix_screening_entry_outcome", "screening", ["plan_entry_id", "outcome"]),
    ("ix_screening_township_day", "screening", ["township_id", "screened_on"]),
    ("ix_screening_point_held", "screening", ["point_id", "outcome", "screened_on"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
