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

from sqlalchemy import case, func, select
from sqlalchemy.sql.elements import ColumnElement

from mam.models.assessment import NO_TOWNSHIP, CountyMonthRollup, MonthRollup, PointYear
from mam.models.network import PlaybackPoint
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
    """Return (group, month, planned, done, held and moved, attendance) rows."""
    key, r = month_key(ctx), table(ctx)
    return (
        select(
            key,
            r.month,
            func.sum(r.planned),
            func.sum(r.done),
            func.sum(r.held + r.moved),
            func.sum(r.attendance),
        )
        .where(*month_where(ctx))
        .group_by(key, r.month)
    )


def plan_fulfilment(ctx: Context) -> dict[int, tuple[int, int]]:
    """Reports against the plan, held or moved ÷ plan entries, each by its own month."""
    key, r = month_key(ctx), table(ctx)
    stmt = select(key, func.sum(r.done), func.sum(r.planned)).where(*month_where(ctx)).group_by(key)
    return {int(k): (int(n or 0), int(d or 0)) for k, n, d in ctx.session.execute(stmt)}


def attendance(ctx: Context) -> dict[int, tuple[int, int]]:
    """Return ``{group: (attendance, held and moved reports)}``."""
    key, r = month_key(ctx), table(ctx)
    stmt = (
        select(key, func.sum(r.attendance), func.sum(r.held + r.moved))
        .where(*month_where(ctx))
        .group_by(key)
    )
    return {
        int(k): (int(a or 0), int(n or 0))
        for k, a, n in ctx.session.execute(stmt)
        if int(n or 0) or int(a or 0)
    }


def year_masks(period: Period) -> dict[int, int]:
    """Return ``{year: bits of the period's months in that year}``."""
    masks: dict[int, int] = {}
    for key in period.month_keys():
        year, month = int(key[:4]), int(key[5:])
        masks[year] = masks.get(year, 0) | 1 << (month - 1)
    return masks


def screened_points(ctx: Context) -> dict[int, int]:
    """Return ``{group: active points with a held (or moved) screening in the period}``.

    Every point with a month of the period in its masks is counted from the rollup alone,
    then the inactive ones (few; found through the point table) are taken off again.
    """
    masks = year_masks(ctx.period)
    p = PointYear
    key = p.county_id if ctx.grain == Grain.COUNTY else p.township_id
    mask = case(*((p.year == y, m) for y, m in masks.items()), else_=0)
    where = [p.year >= min(masks), p.year <= max(masks), p.months.op("&")(mask) != 0]
    if ctx.scope.county_id is not None:
        where.append(p.county_id == ctx.scope.county_id)
    if ctx.scope.township_id is not None:
        where.append(p.township_id == ctx.scope.township_id)
    if len(masks) == 1:  # one row per point and year: no duplicates to remove
        every = select(key, func.count()).where(*where).group_by(key)
    else:
        points = select(key.label("key"), p.point_id).where(*where).group_by(key, p.point_id)
        inner = points.subquery()
        every = select(inner.c.key, func.count()).group_by(inner.c.key)
    inactive = (
        select(key, func.count(func.distinct(p.point_id)))
        .join(PlaybackPoint, PlaybackPoint.id == p.point_id)
        .where(~PlaybackPoint.active, *where)
        .group_by(key)
    )
    counts = {int(k): int(n) for k, n in ctx.session.execute(every)}
    for k, n in ctx.session.execute(inactive):
        counts[int(k)] -= int(n)
    return counts
