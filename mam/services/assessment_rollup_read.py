"""The assessment figures read from the rollup (``mam.services.assessment_rollup``).

At the county and township grains the dashboards read ``assessment_month`` (plan entries,
reports against the plan, held reports, attendance per township and month) and
``assessment_point_year`` (the months in which each point had a held screening) instead of
grouping every plan entry and screening of the period. Each function returns what its
raw-row twin in ``assessment_indicators`` returns, for the same period and scope; the
drill-down to the screenings and the point grain still read the raw rows (indexed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from mam.models.assessment import (
    NO_TOWNSHIP,
    CountyMonthRollup,
    MonthRollup,
    PointYear,
    TownshipNetwork,
)
from mam.models.network import PlaybackPoint
from mam.services.assessment_rollup import month_number
from mam.services.assessment_sql import Grain, Period

if TYPE_CHECKING:
    from mam.services.assessment_indicators import Context


def table(ctx: Context) -> Any:
    """Return the rollup table of the grain: per county and month, or per township."""
    if ctx.grain == Grain.COUNTY and ctx.scope.township_id is None:
        return CountyMonthRollup
    return MonthRollup


def month_key(ctx: Context) -> Any:
    """Return the rollup's grouping column (county or township)."""
    r = table(ctx)
    return r.county_id if ctx.grain == Grain.COUNTY else r.township_id


def month_where(ctx: Context) -> list[ColumnElement[bool]]:
    """Return the filters of rollup rows in the period and the scope."""
    r = table(ctx)
    where = [r.month >= ctx.period.start, r.month < ctx.period.end]
    if ctx.grain != Grain.COUNTY:
        where.append(r.township_id != NO_TOWNSHIP)
    if ctx.scope.county_id is not None:
        where.append(r.county_id == ctx.scope.county_id)
    if ctx.scope.township_id is not None:
        where.append(r.township_id == ctx.scope.township_id)
    return where


def monthly(ctx: Context) -> Any:
    """Return (group, month, planned, done, held and moved, attendance) rows.

    The rollup row of the grain is already one per group and month (a county's row of
    ``assessment_county_month``, a township's of ``assessment_month``; with a township
    scope the county grain reads that township's rows): no grouping is needed."""
    key, r = month_key(ctx), table(ctx)
    return select(key, r.month, r.planned, r.done, r.held + r.moved, r.attendance).where(
        *month_where(ctx)
    )


def month_sums(ctx: Context) -> dict[int, tuple[int, int, int, int]]:
    """Return ``{group: (reports against the plan held or moved, plan entries, attendance,
    held and moved reports)}`` over the period: one grouped read for two indicators."""

    def compute() -> dict[int, tuple[int, int, int, int]]:
        key, r = month_key(ctx), table(ctx)
        stmt = (
            select(
                key,
                func.sum(r.done),
                func.sum(r.planned),
                func.sum(r.attendance),
                func.sum(r.held + r.moved),
            )
            .where(*month_where(ctx))
            .group_by(key)
        )
        return {
            int(k): (int(d or 0), int(p or 0), int(a or 0), int(n or 0))
            for k, d, p, a, n in ctx.session.execute(stmt)
        }

    result: dict[int, tuple[int, int, int, int]] = ctx.once("month_sums", compute)
    return result


def plan_fulfilment(ctx: Context) -> dict[int, tuple[int, int]]:
    """Reports against the plan, held or moved ÷ plan entries, each by its own month."""
    return {k: (done, planned) for k, (done, planned, _a, _n) in month_sums(ctx).items()}


def attendance(ctx: Context) -> dict[int, tuple[int, int]]:
    """Return ``{group: (attendance, held and moved reports)}``."""
    return {k: (a, n) for k, (_d, _p, a, n) in month_sums(ctx).items() if n or a}


def year_masks(period: Period) -> dict[int, int]:
    """Return ``{year: bits of the period's months in that year}``."""
    masks: dict[int, int] = {}
    for key in period.month_keys():
        year, month = int(key[:4]), int(key[5:])
        masks[year] = masks.get(year, 0) | 1 << (month - 1)
    return masks


def coverage(ctx: Context) -> dict[int, tuple[int, int]]:
    """Return ``{group: (active points with a held (or moved) screening in the period,
    active points)}``: the first from the point-year rows, the second from
    ``assessment_township_network``.

    A point was screened in the period if its row of the period's first year has a bit in
    the period or links (``after``) to a screening before the period's end, or if its first
    row (no ``before``) is of a later year of the period with a bit in it. At most one row
    per point matches, whatever the period's length: the rows of one year (and the first
    rows of the next), not the rows of every year, are read."""
    masks = year_masks(ctx.period)
    first, last = min(masks), max(masks)
    p = PointYear
    scope: list[ColumnElement[bool]] = []
    if ctx.scope.county_id is not None:
        scope.append(p.county_id == ctx.scope.county_id)
    if ctx.scope.township_id is not None:
        scope.append(p.township_id == ctx.scope.township_id)
    end = month_number(ctx.period.end.year, ctx.period.end.month)
    key = p.county_id if ctx.grain == Grain.COUNTY else p.township_id
    in_first_year = select(p.point_id, key.label("key")).where(
        p.year == first,
        or_(p.months.op("&")(masks[first]) != 0, p.after < end),
        *scope,
    )
    hits = [in_first_year]
    if last > first:
        mask = case(*((p.year == y, m) for y, m in masks.items()), else_=0)
        hits.append(
            select(p.point_id, key.label("key")).where(
                p.year > first,
                p.year <= last,
                p.before.is_(None),
                p.months.op("&")(mask) != 0,
                *scope,
            )
        )
    screened = (union_all(*hits) if len(hits) > 1 else hits[0]).subquery("screened")
    stmt = (
        select(screened.c.key, func.count())
        .join(PlaybackPoint, PlaybackPoint.id == screened.c.point_id)
        .where(PlaybackPoint.active)
        .group_by(screened.c.key)
    )
    numerators = {int(k): int(n) for k, n in ctx.session.execute(stmt)}
    denominators = {k: points for k, (points, _o, _s) in network(ctx).items() if points}
    keys = numerators.keys() | denominators.keys()
    return {k: (numerators.get(k, 0), denominators.get(k, 0)) for k in keys}


def network(ctx: Context) -> dict[int, tuple[int, int, int]]:
    """Return ``{group: (active points, active organisations, those an active point serves)}``
    from ``assessment_township_network`` (one row per township)."""

    def compute() -> dict[int, tuple[int, int, int]]:
        n = TownshipNetwork
        key = n.county_id if ctx.grain == Grain.COUNTY else n.township_id
        where = []
        if ctx.scope.county_id is not None:
            where.append(n.county_id == ctx.scope.county_id)
        if ctx.scope.township_id is not None:
            where.append(n.township_id == ctx.scope.township_id)
        stmt = (
            select(key, func.sum(n.points), func.sum(n.organisations), func.sum(n.served))
            .where(*where)
            .group_by(key)
        )
        return {
            int(k): (int(p or 0), int(o or 0), int(s or 0))
            for k, p, o, s in ctx.session.execute(stmt)
        }

    result: dict[int, tuple[int, int, int]] = ctx.once("network", compute)
    return result


def buildout(ctx: Context) -> dict[int, tuple[int, int]]:
    """Return ``{group: (active organisations an active point serves, active organisations)}``."""
    return {k: (served, orgs) for k, (_p, orgs, served) in network(ctx).items() if orgs}
