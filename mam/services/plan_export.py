"""A monthly plan as a table: for the printed page, XLSX for people and CSV for programs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from sqlalchemy.orm import Session

from mam.models.network import Plan
from mam.models.release import Screening, ScreeningOutcome
from mam.services.screening_reports import ScreeningReports

# Column keys of the CSV for programs (stable, English); people get translated headers.
CSV_COLUMNS = [
    "plan_month",
    "township",
    "entry_id",
    "planned_on",
    "planned_time",
    "point_id",
    "point",
    "point_kind",
    "release_id",
    "release",
    "episode_id",
    "programme",
    "title",
    "note",
    "outcome",
    "viewers",
]


@dataclass(frozen=True)
class PlanLine:
    entry_id: int
    planned_on: date
    planned_time: time | None
    point_id: int
    point: str
    point_kind: str
    release_id: int
    release: str
    episode_id: int
    programme: str
    title: str
    note: str
    report: Screening | None

    @property
    def outcome(self) -> ScreeningOutcome | None:
        return self.report.outcome if self.report else None


def plan_lines(session: Session, reports: ScreeningReports, plan: Plan) -> list[PlanLine]:
    """Return the plan's entries in order, with the report filed against each (if any)."""
    filed = reports.for_entries(list(plan.entries))
    return [
        PlanLine(
            entry_id=e.id,
            planned_on=e.planned_on,
            planned_time=e.planned_time,
            point_id=e.point_id,
            point=e.point.name,
            point_kind=e.point.kind.value,
            release_id=e.release_id,
            release=e.release.name,
            episode_id=e.episode_id,
            programme=e.episode.programme.name,
            title=e.episode.title,
            note=e.note,
            report=filed.get(e.id),
        )
        for e in plan.entries
    ]


def csv_rows(plan: Plan, lines: list[PlanLine]) -> list[list[object]]:
    """Return the CSV rows for programs (values as stored: ids, ISO dates, enum values)."""
    month = plan.month.strftime("%Y-%m")
    return [
        [
            month,
            plan.township.name,
            line.entry_id,
            line.planned_on.isoformat(),
            line.planned_time.strftime("%H:%M") if line.planned_time else "",
            line.point_id,
            line.point,
            line.point_kind,
            line.release_id,
            line.release,
            line.episode_id,
            line.programme,
            line.title,
            line.note,
            line.outcome.value if line.outcome else "",
            line.report.viewers if line.report else "",
        ]
        for line in lines
    ]
