"""Indexes for the assessment dashboards (revision 0021_assessment); no tables of its own.

The figures are grouped from the network's rows (``mam.models.network``, Screening); these
indexes let PostgreSQL answer the grouped queries from the index alone (the all-county
views) or by short index ranges (a county's or township's films). They are declared here,
next to their migration, so the network's model files stay as they are.
bench/assessment.py times the dashboards with and without them.
"""

from __future__ import annotations

from sqlalchemy import Index

from mam.models.network import PlanEntry
from mam.models.release import Screening

INDEXES = (
    Index("ix_plan_entry_day_plan", PlanEntry.planned_on, PlanEntry.plan_id),
    Index(
        "ix_screening_day_groups",
        Screening.screened_on,
        Screening.county_id,
        Screening.township_id,
        Screening.point_id,
        Screening.outcome,
        Screening.viewers,
        Screening.plan_entry_id,
    ),
    Index(
        "ix_screening_county_film",
        Screening.county_id,
        Screening.release_id,
        Screening.episode_id,
        Screening.outcome,
        Screening.screened_on,
    ),
    Index(
        "ix_screening_township_film",
        Screening.township_id,
        Screening.release_id,
        Screening.episode_id,
        Screening.outcome,
        Screening.screened_on,
    ),
)
