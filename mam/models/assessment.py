"""Indexes for the assessment dashboards (revision 0021_assessment); no tables of its own.

The figures are grouped from the network's rows (``mam.models.network``, Screening); these
covering indexes let PostgreSQL answer the grouped queries from the index alone. They are
declared here, next to their migration, so the network's model files stay as they are.
bench/assessment.py times the dashboards with and without them.
"""

from __future__ import annotations

from sqlalchemy import Index

from mam.models.network import PlanEntry
from mam.models.release import Screening

INDEXES = (
    Index("ix_plan_entry_day_plan", PlanEntry.planned_on, PlanEntry.plan_id, PlanEntry.id),
    Index(
        "ix_screening_day_county",
        Screening.screened_on,
        Screening.county_id,
        Screening.outcome,
        Screening.viewers,
    ),
    Index("ix_screening_entry_outcome", Screening.plan_entry_id, Screening.outcome),
    Index("ix_screening_township_day", Screening.township_id, Screening.screened_on),
    Index("ix_screening_point_held", Screening.point_id, Screening.outcome, Screening.screened_on),
)
