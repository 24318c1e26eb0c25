"""The assessment indicators (考核指标): one registry entry each, one SQL aggregation each.

An indicator is a fraction (numerator ÷ denominator) per county, township or point for a
period. Adding one is one entry in :data:`INDICATORS`: its name, label, formula text,
default weight and the query that returns ``{group id: (numerator, denominator)}`` (or
``None`` for a grain it has no meaning at, e.g. receipts below the county).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, literal, select, true, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from mam.i18n import N_
from mam.models import County
from mam.models.assessment import ReleaseMonth
from mam.models.learning import Learner, StudyDay
from mam.models.network import Organisation, Plan, PlanEntry, PlaybackPoint, Township
from mam.models.release import (
    Receipt,
    ReleaseItem,
    ReleaseSet,
    ReleaseState,
    ReleaseTarget,
    Screening,
    ScreeningOutcome,
)
from mam.services import assessment_rollup_read as rollup_read
from mam.services.assessment_sql import (
    Grain,
    Period,
    Scope,
    days_between,
    plan_key,
    plan_scope,
    point_key,
    screening_key,
    screening_scope,
    township_scope,
)

Fractions = dict[int, tuple[int, int]]
HELD = (ScreeningOutcome.HELD, ScreeningOutcome.MOVED)


@dataclass(frozen=True)
class Context:
    """What an indicator query needs: the session, the grain, the period, the scope."""

    session: Session
    grain: Grain
    period: Period
    scope: Scope
    receipt_days: int
    rollup: bool = True  # read the county and township grains from the rollup
    # figures one query gives to several indicators (rollup reads), kept for this call
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def from_rollup(self) -> bool:
        return self.rollup and self.grain != Grain.POINT

    def once(self, name: str, compute: Callable[[], Any]) -> Any:
        """Return ``compute()``, computed once per context (several indicators share it)."""
        if name not in self.memo:
            self.memo[name] = compute()
        return self.memo[name]


@dataclass(frozen=True)
class Indicator:
    """One scored figure: a fraction per group, with the text that explains it."""

    name: str
    label: str  # N_-marked; translated where shown
    numerator: str
    denominator: str
    weight: float
    query: Callable[[Context], Fractions | None]


def _fractions(ctx: Context, stmt: Any) -> Fractions:
    return {int(k): (int(n or 0), int(d or 0)) for k, n, d in ctx.session.execute(stmt)}


def _merge(numerators: dict[int, int], denominators: dict[int, int]) -> Fractions:
    keys = numerators.keys() | denominators.keys()
    return {k: (numerators.get(k, 0), denominators.get(k, 0)) for k in keys}


def _counts(ctx: Context, stmt: Any) -> dict[int, int]:
    return {int(k): int(n or 0) for k, n in ctx.session.execute(stmt) if k is not None}


def held_in(ctx: Context) -> list[ColumnElement[bool]]:
    """Return the filters of held (or moved) screenings in the period and the scope."""
    return [
        Screening.outcome.in_(HELD),
        Screening.screened_on >= ctx.period.start,
        Screening.screened_on < ctx.period.end,
        *screening_scope(ctx.scope),
    ]


def planned_entries(ctx: Context, *group: Any) -> Any:
    """Return plan entries in the period and scope counted per ``group`` columns."""
    return (
        select(*group, func.count(PlanEntry.id))
        .select_from(PlanEntry)
        .join(Plan, Plan.id == PlanEntry.plan_id)
        .join(Township, Township.id == Plan.township_id)
        .where(
            PlanEntry.planned_on >= ctx.period.start,
            PlanEntry.planned_on < ctx.period.end,
            *plan_scope(ctx.scope),
        )
        .group_by(*group)
    )


def plan_fulfilment(ctx: Context) -> Fractions:
    """Reports against a plan entry held (or moved) in the period ÷ plan entries in it.

    Both sides are counted by their own date (the report's, the entry's), so neither needs
    the other's rows: one grouped scan each.
    """
    if ctx.from_rollup:
        return rollup_read.plan_fulfilment(ctx)
    key = screening_key(ctx.grain)
    done = (
        select(key, func.count())
        .where(key.is_not(None), Screening.plan_entry_id.is_not(None), *held_in(ctx))
        .group_by(key)
    )
    return _merge(_counts(ctx, done), _counts(ctx, planned_entries(ctx, plan_key(ctx.grain))))


def coverage(ctx: Context) -> Fractions:
    """Active points with at least one held screening in the period ÷ active points."""
    if ctx.from_rollup:
        return rollup_read.coverage(ctx)
    key = point_key(ctx.grain)
    skey = screening_key(ctx.grain)
    screened = (
        select(skey, func.count(func.distinct(Screening.point_id)))
        .join(PlaybackPoint, PlaybackPoint.id == Screening.point_id)
        .where(PlaybackPoint.active, *held_in(ctx))
        .group_by(skey)
    )
    points = (
        select(key, func.count(PlaybackPoint.id))
        .join(Township, Township.id == PlaybackPoint.township_id)
        .where(PlaybackPoint.active, *township_scope(ctx.scope))
        .group_by(key)
    )
    return _merge(_counts(ctx, screened), _counts(ctx, points))


def buildout(ctx: Context) -> Fractions | None:
    """Active organisations with an active point ÷ active organisations (建点率, now).

    The organisations are joined to the set of organisations named by an active point (a
    hash join; a correlated EXISTS per organisation made PostgreSQL plan a costly subplan
    and compile it with JIT on every call)."""
    if ctx.grain == Grain.POINT:
        return None
    if ctx.from_rollup:
        return rollup_read.buildout(ctx)
    key = Township.county_id if ctx.grain == Grain.COUNTY else Organisation.township_id
    with_point = (
        select(PlaybackPoint.organisation_id.label("organisation_id"))
        .where(PlaybackPoint.active, PlaybackPoint.organisation_id.is_not(None))
        .distinct()
        .subquery("with_point")
    )
    stmt = (
        select(key, func.count(with_point.c.organisation_id), func.count(Organisation.id))
        .join(Township, Township.id == Organisation.township_id)
        .outerjoin(with_point, with_point.c.organisation_id == Organisation.id)
        .where(Organisation.active, *township_scope(ctx.scope))
        .group_by(key)
    )
    return _fractions(ctx, stmt)


def _published_in(period: Period) -> tuple[ColumnElement[bool], ...]:
    return (
        ReleaseSet.state != ReleaseState.DRAFT,
        ReleaseSet.published_at >= period.start_at,
        ReleaseSet.published_at < period.end_at,
    )


def published(period: Period) -> Any:
    """Return the ids of the release sets published in the period."""
    return select(ReleaseSet.id).where(*_published_in(period))


def deliveries(period: Period, scope: Scope) -> Any:
    """Return (county_id, release_id, published_at) of every set a county got in the period."""
    published = _published_in(period)
    own = [] if scope.county_id is None else [County.id == scope.county_id]
    targeted = (
        select(
            ReleaseTarget.county_id.label("county_id"),
            ReleaseSet.id.label("release_id"),
            ReleaseSet.published_at.label("published_at"),
        )
        .join(ReleaseSet, ReleaseSet.id == ReleaseTarget.release_id)
        .join(County, County.id == ReleaseTarget.county_id)
        .where(~ReleaseSet.all_counties, *published, *own)
    )
    everyone = (
        select(County.id, ReleaseSet.id, ReleaseSet.published_at)
        .join(ReleaseSet, true())
        .where(ReleaseSet.all_counties, *published, *own)
    )
    return union_all(targeted, everyone).subquery("delivery")


def utilisation(ctx: Context) -> Fractions | None:
    """Films supplied in the period that were screened by its end ÷ films supplied (利用率)."""
    if ctx.grain == Grain.POINT:
        return None
    if ctx.from_rollup and ctx.grain == Grain.COUNTY:
        return {k: (s, n) for k, (s, n, _t, _c) in _county_supply(ctx).items() if n or s}
    return films(ctx, by_release=False)


def films(ctx: Context, *, by_release: bool) -> Fractions:
    """Return films screened ÷ supplied per group (county, township) or per release set."""
    got = deliveries(ctx.period, ctx.scope)
    if ctx.grain == Grain.COUNTY:
        key, held_by = got.c.county_id, Screening.county_id == got.c.county_id
    else:
        key, held_by = Township.id, Screening.township_id == Township.id
    screened = (
        select(Screening.id)
        .where(
            held_by,
            Screening.release_id == ReleaseItem.release_id,
            Screening.episode_id == ReleaseItem.episode_id,
            Screening.outcome.in_(HELD),
            Screening.screened_on < ctx.period.end,
        )
        .exists()
    )
    group = got.c.release_id if by_release else key
    stmt = (
        select(group, func.count().filter(screened), func.count())
        .select_from(got)
        .join(ReleaseItem, ReleaseItem.release_id == got.c.release_id)
        .group_by(group)
    )
    if ctx.from_rollup and ctx.grain == Grain.COUNTY:
        return _films_from_rollup(ctx, got, group)
    if ctx.grain != Grain.COUNTY:
        stmt = stmt.join(Township, Township.county_id == got.c.county_id).where(
            *township_scope(ctx.scope)
        )
    return _fractions(ctx, stmt)


def _county_supply(ctx: Context) -> dict[int, tuple[int, int, int, int]]:
    """Return ``{county: (films screened by the period's end, films supplied, sets confirmed
    in time, sets sent)}`` for the sets published in the period, in one query: each county's
    deliveries joined to the set's item count, the films first screened per county and set
    (``assessment_release_month``; a report names a film of its set) and the receipt."""

    def compute() -> dict[int, tuple[int, int, int, int]]:
        got = deliveries(ctx.period, ctx.scope)
        items = (
            select(ReleaseItem.release_id, func.count().label("n"))
            .group_by(ReleaseItem.release_id)
            .subquery("items")
        )
        first = ReleaseMonth
        own = [] if ctx.scope.county_id is None else [first.county_id == ctx.scope.county_id]
        screened = (
            select(
                first.county_id.label("county_id"),
                first.release_id.label("release_id"),
                func.sum(first.films).label("films"),
            )
            .where(first.month < ctx.period.end, first.release_id.in_(published(ctx.period)), *own)
            .group_by(first.county_id, first.release_id)
            .subquery("screened")
        )
        timely = days_between(got.c.published_at, Receipt.confirmed_at) <= ctx.receipt_days
        stmt = (
            select(
                got.c.county_id,
                func.sum(screened.c.films),
                func.sum(items.c.n),
                func.count(Receipt.id).filter(timely),
                func.count(),
            )
            .select_from(got)
            .outerjoin(items, items.c.release_id == got.c.release_id)
            .outerjoin(
                screened,
                and_(
                    screened.c.county_id == got.c.county_id,
                    screened.c.release_id == got.c.release_id,
                ),
            )
            .outerjoin(
                Receipt,
                and_(Receipt.release_id == got.c.release_id, Receipt.county_id == got.c.county_id),
            )
            .group_by(got.c.county_id)
        )
        return {
            int(k): (int(s or 0), int(n or 0), int(t or 0), int(c or 0))
            for k, s, n, t, c in ctx.session.execute(stmt)
        }

    result: dict[int, tuple[int, int, int, int]] = ctx.once("county_supply", compute)
    return result


def _films_from_rollup(ctx: Context, got: Any, group: Any) -> Fractions:
    """Films supplied ÷ screened per set, from the films first screened per county, set and
    month (``assessment_release_month``; a report names a film of its set)."""
    items = (
        select(ReleaseItem.release_id, func.count().label("n"))
        .group_by(ReleaseItem.release_id)
        .subquery()
    )
    supplied = (
        select(group, func.sum(items.c.n))
        .select_from(got)
        .join(items, items.c.release_id == got.c.release_id)
        .group_by(group)
    )
    first = ReleaseMonth
    screened = (
        select(group, func.sum(first.films))
        .select_from(got)
        .join(first, and_(first.county_id == got.c.county_id, first.release_id == got.c.release_id))
        .where(first.month < ctx.period.end)
        .group_by(group)
    )
    return _merge(_counts(ctx, screened), _counts(ctx, supplied))


def receipt_timeliness(ctx: Context) -> Fractions | None:
    """Sets published in the period whose receipt came within N days ÷ sets sent (county)."""
    if ctx.grain != Grain.COUNTY:
        return None
    if ctx.from_rollup:
        return {k: (t, c) for k, (_s, _n, t, c) in _county_supply(ctx).items()}
    got = deliveries(ctx.period, ctx.scope)
    timely = days_between(got.c.published_at, Receipt.confirmed_at) <= ctx.receipt_days
    stmt = (
        select(got.c.county_id, func.count(Receipt.id).filter(timely), func.count())
        .select_from(got)
        .outerjoin(
            Receipt,
            and_(Receipt.release_id == got.c.release_id, Receipt.county_id == got.c.county_id),
        )
        .group_by(got.c.county_id)
    )
    return _fractions(ctx, stmt)


def attendance(ctx: Context) -> dict[int, tuple[int, int]]:
    """Return ``{group: (attendance, held screenings)}`` in the period (not scored)."""
    if ctx.from_rollup:
        return rollup_read.attendance(ctx)
    key = screening_key(ctx.grain)
    stmt = (
        select(key, func.coalesce(func.sum(Screening.viewers), literal(0)), func.count())
        .where(key.is_not(None), *held_in(ctx))
        .group_by(key)
    )
    return _fractions(ctx, stmt)


def study_participation(ctx: Context) -> Fractions | None:
    """Learners who studied in the period ÷ learners (网上党员教育). A learner counts for their
    county, and for the township and point they belong to now (``Learner.point_id``)."""
    if ctx.grain != Grain.COUNTY:
        return _study_at_points(ctx)
    own = [] if ctx.scope.county_id is None else [Learner.county_id == ctx.scope.county_id]
    studied = (
        select(StudyDay.county_id, func.count(func.distinct(StudyDay.user_id)))
        .where(StudyDay.day >= ctx.period.start, StudyDay.day < ctx.period.end)
        .where(
            *([] if ctx.scope.county_id is None else [StudyDay.county_id == ctx.scope.county_id])
        )
        .group_by(StudyDay.county_id)
    )
    learners = (
        select(Learner.county_id, func.count(Learner.id)).where(*own).group_by(Learner.county_id)
    )
    return _merge(_counts(ctx, studied), _counts(ctx, learners))


def _study_at_points(ctx: Context) -> Fractions:
    key = PlaybackPoint.township_id if ctx.grain == Grain.TOWNSHIP else Learner.point_id
    learners = (
        select(key, func.count(Learner.id))
        .join(PlaybackPoint, PlaybackPoint.id == Learner.point_id)
        .join(Township, Township.id == PlaybackPoint.township_id)
        .where(*township_scope(ctx.scope))
        .group_by(key)
    )
    studied = (
        select(key, func.count(func.distinct(StudyDay.user_id)))
        .join(Learner, Learner.user_id == StudyDay.user_id)
        .join(PlaybackPoint, PlaybackPoint.id == Learner.point_id)
        .join(Township, Township.id == PlaybackPoint.township_id)
        .where(
            StudyDay.day >= ctx.period.start,
            StudyDay.day < ctx.period.end,
            *township_scope(ctx.scope),
        )
        .group_by(key)
    )
    return _merge(_counts(ctx, studied), _counts(ctx, learners))


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "plan",
        N_("Plan fulfilment"),
        N_("reports against the plan, held (or moved)"),
        N_("planned screenings"),
        30,
        plan_fulfilment,
    ),
    Indicator(
        "utilisation",
        N_("Utilisation"),
        N_("films supplied that were screened"),
        N_("films supplied"),
        25,
        utilisation,
    ),
    Indicator(
        "coverage",
        N_("Point coverage"),
        N_("active points with a screening"),
        N_("active points"),
        20,
        coverage,
    ),
    Indicator(
        "buildout",
        N_("Build-out rate"),
        N_("organisations with an active point"),
        N_("organisations"),
        15,
        buildout,
    ),
    Indicator(
        "receipts",
        N_("Receipt timeliness"),
        N_("release sets confirmed in time"),
        N_("release sets sent"),
        10,
        receipt_timeliness,
    ),
    Indicator(
        "study",
        N_("Online study participation"),
        N_("learners who studied"),
        N_("learners"),
        10,
        study_participation,
    ),
)
