"""Utilisation and target assessment (目标考核): scores, monthly figures, the screenings behind.

Figures are computed from the network rows (plans, screenings, points, organisations,
release sets, receipts) by SQL aggregation on SQLite and PostgreSQL; nothing is typed in.
A county's score for a period is ``100 × Σ(weight × min(1, value)) ÷ Σ weight`` over the
indicators that have data (a denominator above zero); indicators without data are left out
of both sums, so a county is not punished for a month with no release set. This service
never commits; callers do.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from mam.errors import InvalidInput
from mam.i18n import N_
from mam.models import County
from mam.models.network import PlanEntry, PlaybackPoint, Township
from mam.models.release import ReleaseSet, Screening
from mam.services import assessment_rollup_read as rollup_read
from mam.services.assessment_indicators import (
    INDICATORS,
    Context,
    Indicator,
    attendance,
    films,
    held_in,
    planned_entries,
)
from mam.services.assessment_sql import (
    Grain,
    Period,
    Scope,
    month_key,
    plan_key,
    screening_key,
    screening_scope,
    township_scope,
    year_month,
)

PAGE_SIZE = 50


def parse_weights(text: str) -> dict[str, float]:
    """Return the indicator weights: the registry's defaults, overridden by ``name=weight,…``."""
    weights = {i.name: float(i.weight) for i in INDICATORS}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, raw = part.partition("=")
        name = name.strip()
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if name not in weights or not 0 <= value <= 1000:
            raise InvalidInput(
                N_("Unknown indicator or weight in %(setting)s: %(part)s"),
                params={"setting": "MAM_ASSESSMENT_WEIGHTS", "part": part},
            )
        weights[name] = value
    return weights


@dataclass(frozen=True)
class Figure:
    """One indicator's fraction for one group, with its weight."""

    indicator: Indicator
    numerator: int
    denominator: int
    weight: float

    @property
    def value(self) -> float | None:
        """Return the fraction (capped at 1), or None without a denominator."""
        if self.denominator <= 0:
            return None
        return min(1.0, self.numerator / self.denominator)

    @property
    def points(self) -> float | None:
        """Return what this figure adds to the weighted sum (weight × value)."""
        return None if self.value is None else self.weight * self.value


@dataclass(frozen=True)
class GroupScore:
    """A county's, township's or point's figures and score for a period."""

    id: int
    name: str
    figures: list[Figure]
    attendance: int
    held: int
    rank: int = 0

    def figure(self, indicator: str) -> Figure | None:
        """Return the figure of the indicator named ``indicator`` (None: not at this grain)."""
        return next((f for f in self.figures if f.indicator.name == indicator), None)

    @property
    def weight_used(self) -> float:
        return sum(f.weight for f in self.figures if f.value is not None)

    @property
    def score(self) -> float | None:
        """Return 100 × Σ(weight × value) ÷ Σ weight over figures with data, or None."""
        used = self.weight_used
        if used <= 0:
            return None
        return round(100 * sum(f.points or 0.0 for f in self.figures) / used, 1)


class MonthFigures(NamedTuple):
    """What one group did in one month (a named tuple: a five-year heatmap makes 18 000)."""

    planned: int = 0
    done: int = 0
    held: int = 0
    attendance: int = 0

    @property
    def fulfilment(self) -> float | None:
        return min(1.0, self.done / self.planned) if self.planned else None


@dataclass
class Monthly:
    """Month figures per group (for the heatmap) and in total (for the trend lines)."""

    months: list[str]
    cells: dict[tuple[int, str], MonthFigures] = field(default_factory=dict)

    def total(self, month: str) -> MonthFigures:
        return self.totals().get(month, MonthFigures())

    def totals(self) -> dict[str, MonthFigures]:
        """Return every month's sum over the groups (one pass over the cells)."""
        sums = {m: [0, 0, 0, 0] for m in self.months}
        for (_, m), v in self.cells.items():
            row = sums.setdefault(m, [0, 0, 0, 0])
            row[0] += v.planned
            row[1] += v.done
            row[2] += v.held
            row[3] += v.attendance
        return {m: MonthFigures(*row) for m, row in sums.items()}


@dataclass(frozen=True)
class ReleaseFigures:
    """What a county (or township) did with one release set sent in the period."""

    release_id: int
    name: str
    supplied: int
    screened: int
    held: int
    attendance: int

    @property
    def utilisation(self) -> float | None:
        return self.screened / self.supplied if self.supplied else None


@dataclass(frozen=True)
class ScreeningFilter:
    """Which screenings a drill-down lists (all inside the reader's scope)."""

    county_id: int | None = None
    township_id: int | None = None
    point_id: int | None = None
    month: str | None = None
    release_id: int | None = None


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a loop makes many small objects that all
    stay alive (the 18 000 cells of a five-year all-county heatmap): each batch of new
    objects would otherwise trigger collections that walk the whole heap (measured: the
    loop took 12–50 ms with the collector, 7–12 ms without). Nothing here makes cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class AssessmentService:
    """Scores and figures of counties, townships and points for a period."""

    def __init__(
        self,
        session: Session,
        *,
        weights: Mapping[str, float] | None = None,
        receipt_days: int = 7,
        rollup: bool = True,
    ) -> None:
        self.session = session
        self.rollup = rollup  # False: group the raw rows (the benchmark's comparison)
        self.weights = dict(weights or parse_weights(""))
        self.receipt_days = receipt_days

    def groups(self, grain: Grain, scope: Scope) -> list[tuple[int, str]]:
        """Return (id, name) of every county, township or point inside ``scope``."""
        stmt: Any
        if grain == Grain.COUNTY:
            stmt = select(County.id, County.name).order_by(County.code)
            if scope.county_id is not None:
                stmt = stmt.where(County.id == scope.county_id)
        elif grain == Grain.TOWNSHIP:
            stmt = select(Township.id, Township.name).where(*township_scope(scope))
            stmt = stmt.order_by(Township.name)
        else:
            stmt = (
                select(PlaybackPoint.id, PlaybackPoint.name)
                .join(Township, Township.id == PlaybackPoint.township_id)
                .where(*township_scope(scope))
                .order_by(PlaybackPoint.name)
            )
        return [(int(i), str(n)) for i, n in self.session.execute(stmt)]

    def scores(self, grain: Grain, period: Period, scope: Scope) -> list[GroupScore]:
        """Return every group's figures and score, best first (ranked; no score last)."""
        ctx = Context(self.session, grain, period, scope, self.receipt_days, self.rollup)
        results = [(i, i.query(ctx)) for i in INDICATORS]
        seen = attendance(ctx)
        rows = []
        for gid, name in self.groups(grain, scope):
            figures = [
                Figure(i, *r.get(gid, (0, 0)), weight=self.weights.get(i.name, 0.0))
                for i, r in results
                if r is not None
            ]
            people, held = seen.get(gid, (0, 0))
            rows.append(GroupScore(gid, name, figures, people, held))
        rows.sort(key=lambda r: (r.score is None, -(r.score or 0.0), r.name))
        return [
            GroupScore(r.id, r.name, r.figures, r.attendance, r.held, rank=n)
            for n, r in enumerate(rows, 1)
        ]

    def monthly(self, grain: Grain, period: Period, scope: Scope) -> Monthly:
        """Return planned, done, held and attendance per group and month."""
        out = Monthly(period.month_keys())
        ctx = Context(self.session, grain, period, scope, self.receipt_days, self.rollup)
        if ctx.from_rollup:
            # one row per group and month already (up to 300 counties × 60 months): the
            # loop stays small, and the rows are read through the connection (no ORM)
            keys: dict[object, str] = {}
            cells = out.cells
            with collector_paused():
                rows = self.session.connection().execute(rollup_read.monthly(ctx)).all()
                for gid, m, planned, done, held, people in rows:
                    if planned or held or people:  # as the raw queries: no cell without figures
                        key = keys.get(m)
                        if key is None:
                            key = keys[m] = month_key(m)
                        cells[(gid, key)] = MonthFigures(planned, done, held, people)
            return out
        month = year_month(PlanEntry.planned_on)
        for gid, m, count in self.session.execute(planned_entries(ctx, plan_key(grain), month)):
            out.cells[(int(gid), month_key(m))] = MonthFigures(planned=int(count))
        key = screening_key(grain)
        smonth = year_month(Screening.screened_on)
        held = (
            select(
                key,
                smonth,
                func.count(Screening.plan_entry_id),
                func.count(),
                func.coalesce(func.sum(Screening.viewers), 0),
            )
            .where(key.is_not(None), *held_in(ctx))
            .group_by(key, smonth)
        )
        for gid, m, done, count, people in self.session.execute(held):
            cell = out.cells.get((int(gid), month_key(m)), MonthFigures())
            out.cells[(int(gid), month_key(m))] = MonthFigures(
                cell.planned, int(done), int(count), int(people)
            )
        return out

    def releases(self, grain: Grain, period: Period, scope: Scope) -> list[ReleaseFigures]:
        """Return per release set sent in the period: films supplied and screened, use."""
        ctx = Context(self.session, grain, period, scope, self.receipt_days, self.rollup)
        supply = films(ctx, by_release=True)
        use = {
            int(rid): (int(n), int(people))
            for rid, n, people in self.session.execute(
                select(
                    Screening.release_id,
                    func.count(),
                    func.coalesce(func.sum(Screening.viewers), 0),
                )
                .where(Screening.release_id.in_(list(supply)), *held_in(ctx))
                .group_by(Screening.release_id)
            )
        }
        names = dict(
            self.session.execute(
                select(ReleaseSet.id, ReleaseSet.name).where(ReleaseSet.id.in_(list(supply)))
            ).all()
        )
        return [
            ReleaseFigures(rid, names[rid], den, num, *use.get(rid, (0, 0)))
            for rid, (num, den) in sorted(supply.items())
        ]

    def screenings(
        self, period: Period, scope: Scope, where: ScreeningFilter, *, page: int = 1
    ) -> tuple[list[Screening], int]:
        """Return one page of the screenings behind a figure, newest first, and the total."""
        conditions = [
            Screening.screened_on >= period.start,
            Screening.screened_on < period.end,
            *screening_scope(scope),
        ]
        if where.county_id is not None:
            conditions.append(Screening.county_id == where.county_id)
        if where.township_id is not None:
            conditions.append(Screening.township_id == where.township_id)
        if where.point_id is not None:
            conditions.append(Screening.point_id == where.point_id)
        if where.release_id is not None:
            conditions.append(Screening.release_id == where.release_id)
        if where.month is not None:  # a date range, so the (county, day) index serves it
            first = Period.months(where.month, where.month)
            conditions += [Screening.screened_on >= first.start, Screening.screened_on < first.end]
        total = self.session.scalar(select(func.count(Screening.id)).where(*conditions)) or 0
        rows = self.session.scalars(
            select(Screening)
            .where(*conditions)
            .options(
                joinedload(Screening.episode),
                joinedload(Screening.point),
                joinedload(Screening.township),
                joinedload(Screening.release),
                joinedload(Screening.plan_entry),
            )
            .order_by(Screening.screened_on.desc(), Screening.id.desc())
            .limit(PAGE_SIZE)
            .offset((max(1, page) - 1) * PAGE_SIZE)
        ).all()
        return list(rows), int(total)
