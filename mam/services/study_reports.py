"""Study figures for people and programs: per learner, per county, per month, per point.

This is the API the assessment dashboards read (they must not query the study tables
themselves): seconds come from :class:`StudyDay` (credited seconds per day), completions
from :class:`StudyRecord.completed_at`. A month is a calendar month in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from mam.models import County, User
from mam.models.learning import Learner, StudyDay, StudyRecord
from mam.models.network import PlaybackPoint, Township


@dataclass(frozen=True)
class Month:
    """A calendar month; ``Month.parse("2026-12")``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """Return the month named ``YYYY-MM`` (ValueError otherwise)."""
        year, month = text.split("-")
        value = cls(int(year), int(month))
        date(value.year, value.month, 1)  # raises on month 13
        return value

    @classmethod
    def of(cls, day: date) -> Month:
        """Return the month ``day`` falls in."""
        return cls(day.year, day.month)

    @property
    def first(self) -> date:
        """Return the first day of the month."""
        return date(self.year, self.month, 1)

    @property
    def after(self) -> date:
        """Return the first day of the next month."""
        return date(self.year + self.month // 12, self.month % 12 + 1, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class StudyTotals:
    """Study seconds and completed episodes of someone (or some group) over a period."""

    seconds: float = 0.0
    completions: int = 0

    @property
    def hours(self) -> float:
        """Return the seconds as hours (one decimal is what people read)."""
        return self.seconds / 3600


@dataclass(frozen=True)
class LearnerStudy:
    learner: Learner
    totals: StudyTotals


@dataclass(frozen=True)
class CountyStudy:
    county: County
    learners: int
    active_learners: int
    totals: StudyTotals


def _instant(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class StudyReports:
    """Read-only figures over learners' study (no commits, no writes)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _seconds_by(
        self, column: InstrumentedAttribute[Any], month: Month | None, **where: int
    ) -> dict[int, float]:
        query = select(column, func.sum(StudyDay.seconds))
        for name, value in where.items():
            query = query.where(getattr(StudyDay, name) == value)
        if month is not None:
            query = query.where(StudyDay.day >= month.first, StudyDay.day < month.after)
        return {k: float(v or 0.0) for k, v in self.session.execute(query.group_by(column))}

    def _completions_by(
        self, column: InstrumentedAttribute[Any], month: Month | None, **where: int
    ) -> dict[int, int]:
        query = select(column, func.count(StudyRecord.id)).where(
            StudyRecord.completed_at.is_not(None)
        )
        for name, value in where.items():
            query = query.where(getattr(StudyRecord, name) == value)
        if month is not None:
            query = query.where(
                StudyRecord.completed_at >= _instant(month.first),
                StudyRecord.completed_at < _instant(month.after),
            )
        return {k: int(v) for k, v in self.session.execute(query.group_by(column))}

    def learner(self, user_id: int, month: Month | None = None) -> StudyTotals:
        """Return one learner's totals (for all time, or one month)."""
        seconds = self._seconds_by(StudyDay.user_id, month, user_id=user_id)
        done = self._completions_by(StudyRecord.user_id, month, user_id=user_id)
        return StudyTotals(seconds.get(user_id, 0.0), done.get(user_id, 0))

    def learners(self, county_id: int, month: Month | None = None) -> list[LearnerStudy]:
        """Return every learner of a county with their totals, most hours first."""
        seconds = self._seconds_by(StudyDay.user_id, month, county_id=county_id)
        done = self._completions_by(StudyRecord.user_id, month, county_id=county_id)
        learners = self.session.scalars(
            select(Learner).join(User, User.id == Learner.user_id)
            .where(Learner.county_id == county_id).order_by(Learner.phone)
        )  # fmt: skip
        rows = [
            LearnerStudy(r, StudyTotals(seconds.get(r.user_id, 0.0), done.get(r.user_id, 0)))
            for r in learners
        ]
        return sorted(rows, key=lambda r: -r.totals.seconds)

    def counties(self, month: Month | None = None) -> list[CountyStudy]:
        """Return every county with learners, active learners and totals."""
        seconds = self._seconds_by(StudyDay.county_id, month)
        done = self._completions_by(StudyRecord.county_id, month)
        counts = dict(
            self.session.execute(
                select(Learner.county_id, func.count(Learner.id)).group_by(Learner.county_id)
            ).all()
        )
        active_q = select(StudyDay.county_id, func.count(func.distinct(StudyDay.user_id)))
        if month is not None:
            active_q = active_q.where(StudyDay.day >= month.first, StudyDay.day < month.after)
        active = dict(self.session.execute(active_q.group_by(StudyDay.county_id)).all())
        return [
            CountyStudy(
                c,
                int(counts.get(c.id, 0)),
                int(active.get(c.id, 0)),
                StudyTotals(seconds.get(c.id, 0.0), done.get(c.id, 0)),
            )
            for c in self.session.scalars(select(County).order_by(County.code))
        ]

    def monthly(self, county_id: int | None = None) -> dict[Month, StudyTotals]:
        """Return totals per month (of one county, or of all), oldest month first."""
        where = {"county_id": county_id} if county_id is not None else {}
        seconds: dict[Month, float] = {}
        for day, value in self._seconds_by(StudyDay.day, None, **where).items():
            month = Month.of(day)  # type: ignore[arg-type]
            seconds[month] = seconds.get(month, 0.0) + value
        query = select(StudyRecord.completed_at).where(StudyRecord.completed_at.is_not(None))
        if county_id is not None:
            query = query.where(StudyRecord.county_id == county_id)
        done: dict[Month, int] = {}
        for at in self.session.scalars(query):
            if at is None:
                continue
            month = Month.of(at.date())
            done[month] = done.get(month, 0) + 1
        months = sorted({*seconds, *done}, key=lambda m: (m.year, m.month))
        return {m: StudyTotals(seconds.get(m, 0.0), done.get(m, 0)) for m in months}

    def by_point(self, county_id: int, month: Month | None = None) -> dict[int | None, StudyTotals]:
        """Return a county's totals per playback point of the learners (None: no point yet)."""
        per_learner = self.learners(county_id, month)
        totals: dict[int | None, StudyTotals] = {}
        for row in per_learner:
            key = row.learner.point_id
            old = totals.get(key, StudyTotals())
            totals[key] = StudyTotals(
                old.seconds + row.totals.seconds, old.completions + row.totals.completions
            )
        return totals


@dataclass(frozen=True)
class PointStudy:
    """A playback point's learners and their study (点位学习情况); point None: no point."""

    point_id: int | None
    name: str
    township: str
    learners: int
    totals: StudyTotals


def point_study(
    session: Session,
    county_id: int,
    month: Month | None = None,
    *,
    township_id: int | None = None,
    days: tuple[date, date] | None = None,
) -> list[PointStudy]:
    """Return per point of a county (or one township) its learners, study hours and
    completions, for all time, one ``month`` or the ``days`` [first, after); learners
    without a point are one row (point None) when the whole county is asked for."""
    if month is not None:
        days = (month.first, month.after)
    seconds_q = (
        select(Learner.point_id, func.sum(StudyDay.seconds))
        .join(Learner, Learner.user_id == StudyDay.user_id)
        .where(Learner.county_id == county_id)
        .group_by(Learner.point_id)
    )
    done_q = (
        select(Learner.point_id, func.count(StudyRecord.id))
        .join(Learner, Learner.user_id == StudyRecord.user_id)
        .where(Learner.county_id == county_id, StudyRecord.completed_at.is_not(None))
        .group_by(Learner.point_id)
    )
    if days is not None:
        seconds_q = seconds_q.where(StudyDay.day >= days[0], StudyDay.day < days[1])
        done_q = done_q.where(
            StudyRecord.completed_at >= _instant(days[0]),
            StudyRecord.completed_at < _instant(days[1]),
        )
    seconds = {k: float(v or 0.0) for k, v in session.execute(seconds_q)}
    done = {k: int(v) for k, v in session.execute(done_q)}
    counts: dict[int | None, int] = {
        k: int(n)
        for k, n in session.execute(
            select(Learner.point_id, func.count(Learner.id))
            .where(Learner.county_id == county_id)
            .group_by(Learner.point_id)
        )
    }
    query = (
        select(PlaybackPoint.id, PlaybackPoint.name, Township.name)
        .join(Township, Township.id == PlaybackPoint.township_id)
        .where(Township.county_id == county_id)
        .order_by(Township.name, PlaybackPoint.name)
    )
    if township_id is not None:
        query = query.where(Township.id == township_id)

    def totals(key: int | None) -> StudyTotals:
        return StudyTotals(seconds.get(key, 0.0), done.get(key, 0))

    rows = [
        PointStudy(pid, name, town, counts.get(pid, 0), totals(pid))
        for pid, name, town in session.execute(query)
    ]
    if township_id is None and counts.get(None):
        rows.append(PointStudy(None, "", "", counts[None], totals(None)))
    return rows


def export_rows(rows: Iterable[LearnerStudy]) -> list[list[object]]:
    """Return one line per learner: name, phone, hours (1 decimal), completions."""
    return [
        [r.learner.user.display_name, r.learner.phone, round(r.totals.hours, 1),
         r.totals.completions]
        for r in rows
    ]  # fmt: skip
