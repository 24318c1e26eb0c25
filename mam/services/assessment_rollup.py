"""The assessment's monthly rollup (汇总表), kept in step with plans and screenings.

Two tables (``mam.models.assessment``) hold the dashboard counts already grouped:

* ``assessment_month`` per (county, township, month): plan entries, reports against the plan
  held or moved, reports by outcome, attendance (and 党员/群众). County-level reports made
  before the network count under township 0. ``assessment_county_month`` holds the same
  counters summed per (county, month) for the all-county views.
* ``assessment_point_year`` per (point, year): a bit per month in which the point had a held
  (or moved) screening, so "points with a screening in the period" is one AND per year.
* ``assessment_film`` per (county, release set, episode): the first day the county held a
  screening of the film, and ``assessment_release_month`` per (county, release set, month):
  how many of the set's films were first screened that month (utilisation: films screened
  by the end of the period is a sum over the months before it).

The plan and screening services call :func:`plan_entry_added` / :func:`plan_entry_removed`
and :func:`screening_before` / :func:`screening_after` in the transaction that changes the
row, so the rollup is never stale (each call is one atomic ``INSERT … ON CONFLICT DO UPDATE``
adding a delta). :func:`rebuild` recomputes both tables from the raw rows (``mam assessment
rebuild-rollup``, the migration's back-fill, bulk loads). Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, delete, func, insert, literal, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mam.models.assessment import (
    NO_TOWNSHIP,
    CountyMonthRollup,
    FilmFirst,
    MonthRollup,
    PointYear,
    ReleaseMonth,
)
from mam.models.network import Plan, PlanEntry, Township
from mam.models.release import Screening, ScreeningOutcome
from mam.services.assessment_sql import date_part, month_start

COUNTERS = ("planned", "done", "held", "moved", "not_held", "attendance", "party_members", "masses")
HELD = (ScreeningOutcome.HELD, ScreeningOutcome.MOVED)
ALL_MONTHS = (1 << 12) - 1


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _bump(session: Session, county_id: int, township_id: int, month: date, **deltas: int) -> None:
    deltas = {k: v for k, v in deltas.items() if v}
    if not deltas:
        return
    values = {c: deltas.get(c, 0) for c in COUNTERS}
    for table, keys in (
        (MonthRollup.__table__, {"county_id": county_id, "township_id": township_id}),
        (CountyMonthRollup.__table__, {"county_id": county_id}),
    ):
        stmt = _insert(session)(table).values(month=month, **keys, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[*keys, "month"],
            set_={c: table.c[c] + stmt.excluded[c] for c in deltas},
        )
        session.execute(stmt)


def plan_entry_added(session: Session, entry: PlanEntry) -> None:
    """Count a new plan entry (after its flush)."""
    _plan(session, entry, 1)


def plan_entry_removed(session: Session, entry: PlanEntry) -> None:
    """Take a plan entry out of the counts (before it is deleted)."""
    _plan(session, entry, -1)


def _plan(session: Session, entry: PlanEntry, sign: int) -> None:
    township = entry.plan.township
    _bump(session, township.county_id, township.id, entry.planned_on.replace(day=1), planned=sign)


@dataclass(frozen=True)
class Counted:
    """What one screening adds to the rollup (captured before a correction changes it)."""

    county_id: int
    township_id: int
    point_id: int | None
    day: date
    deltas: dict[str, int]
    film: tuple[int, int, int | None] | None = None


def _counted(row: Screening) -> Counted:
    held = row.outcome in HELD
    deltas = {
        "done": int(held and row.plan_entry_id is not None),
        "held": int(row.outcome == ScreeningOutcome.HELD),
        "moved": int(row.outcome == ScreeningOutcome.MOVED),
        "not_held": int(row.outcome == ScreeningOutcome.NOT_HELD),
        "attendance": (row.viewers or 0) if held else 0,
        "party_members": (row.party_members or 0) if held else 0,
        "masses": (row.masses or 0) if held else 0,
    }
    township = row.township_id if row.township_id is not None else NO_TOWNSHIP
    film = (row.county_id, row.release_id, row.episode_id)
    return Counted(row.county_id, township, row.point_id, row.screened_on, deltas, film)


def screening_before(row: Screening) -> Counted | None:
    """Return what an existing report counts for now (None for a new, unflushed one)."""
    return None if row.id is None else _counted(row)


def screening_after(session: Session, row: Screening, before: Counted | None) -> None:
    """Move the rollup from ``before`` to what the flushed report ``row`` counts for."""
    after = _counted(row)
    if before is not None:
        _bump(
            session,
            before.county_id,
            before.township_id,
            before.day.replace(day=1),
            **{k: -v for k, v in before.deltas.items()},
        )
    _bump(session, after.county_id, after.township_id, after.day.replace(day=1), **after.deltas)
    films = {(row.county_id, row.release_id, row.episode_id)}
    if before is not None and before.film is not None:
        films.add(before.film)
    for county_id, release_id, episode_id in films:
        if episode_id is not None:
            _film(session, county_id, release_id, episode_id)
    for counted in {
        (c.point_id, c.county_id, c.township_id, c.day.replace(day=1))
        for c in (before, after)
        if c is not None and c.point_id is not None
    }:
        _point_month(session, *counted)


def _lock(
    session: Session,
    table: Any,
    keys: dict[str, Any],
    column: str,
    empty: Any,
    *,
    conflict: list[str] | None = None,
) -> None:
    """Create or lock the rollup row of ``keys`` (a no-op upsert takes its row lock), so two
    transactions recomputing the same row from the raw rows take turns, and the second one's
    next statements see what the first committed (PostgreSQL, READ COMMITTED)."""
    stmt = _insert(session)(table).values(**keys, **{column: empty})
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=conflict or list(keys), set_={column: table.c[column]}
        )
    )


def _film(session: Session, county_id: int, release_id: int, episode_id: int) -> None:
    """Set the county's first held day of the film from the raw rows (the county-film index)
    and move the film between the months of ``assessment_release_month``."""
    film = (
        FilmFirst.county_id == county_id,
        FilmFirst.release_id == release_id,
        FilmFirst.episode_id == episode_id,
    )
    _lock(
        session,
        FilmFirst.__table__,
        {"county_id": county_id, "release_id": release_id, "episode_id": episode_id},
        "first_on",
        None,
    )
    old = session.scalar(select(FilmFirst.first_on).where(*film))
    first = session.scalar(
        select(func.min(Screening.screened_on)).where(
            Screening.county_id == county_id,
            Screening.release_id == release_id,
            Screening.episode_id == episode_id,
            Screening.outcome.in_(HELD),
        )
    )
    stmt = _insert(session)(FilmFirst.__table__).values(
        county_id=county_id, release_id=release_id, episode_id=episode_id, first_on=first
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["county_id", "release_id", "episode_id"], set_={"first_on": first}
    )
    session.execute(stmt)
    before, after = (d.replace(day=1) if d else None for d in (old, first))
    if before == after:
        return
    table = ReleaseMonth.__table__
    for month, delta in ((before, -1), (after, 1)):
        if month is None:
            continue
        ins = _insert(session)(table).values(
            county_id=county_id, release_id=release_id, month=month, films=delta
        )
        session.execute(
            ins.on_conflict_do_update(
                index_elements=["county_id", "release_id", "month"],
                set_={"films": table.c.films + delta},
            )
        )


def _point_month(
    session: Session, point_id: int, county_id: int, township_id: int, month: date
) -> None:
    """Set or clear the point's bit of ``month`` from the raw rows (the point's day index)."""
    _lock(session, PointYear.__table__,
          {"point_id": point_id, "year": month.year, "county_id": county_id,
           "township_id": township_id}, "months", 0, conflict=["point_id", "year"])  # fmt: skip
    nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    screened = (
        session.scalar(
            select(Screening.id)
            .where(
                Screening.point_id == point_id,
                Screening.screened_on >= month,
                Screening.screened_on < nxt,
                Screening.outcome.in_(HELD),
            )
            .limit(1)
        )
        is not None
    )
    bit = 1 << (month.month - 1)
    table = PointYear.__table__
    stmt = _insert(session)(table).values(
        point_id=point_id,
        year=month.year,
        county_id=county_id,
        township_id=township_id,
        months=bit if screened else 0,
    )
    months = table.c.months
    stmt = stmt.on_conflict_do_update(
        index_elements=["point_id", "year"],
        set_={"months": months.op("|")(bit) if screened else months.op("&")(ALL_MONTHS ^ bit)},
    )
    session.execute(stmt)


def rebuild(session: Session) -> tuple[int, int]:
    """Recompute both rollup tables from the raw rows; return their row counts."""
    session.flush()
    session.execute(delete(MonthRollup))
    session.execute(delete(CountyMonthRollup))
    session.execute(delete(PointYear))
    session.execute(delete(FilmFirst))
    session.execute(delete(ReleaseMonth))
    session.execute(
        insert(FilmFirst).from_select(
            ["county_id", "release_id", "episode_id", "first_on"],
            select(
                Screening.county_id,
                Screening.release_id,
                Screening.episode_id,
                func.min(Screening.screened_on),
            )
            .where(Screening.episode_id.is_not(None), Screening.outcome.in_(HELD))
            .group_by(Screening.county_id, Screening.release_id, Screening.episode_id),
        )
    )
    first = month_start(FilmFirst.first_on)
    session.execute(
        insert(ReleaseMonth).from_select(
            ["county_id", "release_id", "month", "films"],
            select(FilmFirst.county_id, FilmFirst.release_id, first, func.count())
            .where(FilmFirst.first_on.is_not(None))
            .group_by(FilmFirst.county_id, FilmFirst.release_id, first),
        )
    )
    month = month_start(PlanEntry.planned_on)
    zero = literal(0)
    planned = (
        select(
            Township.county_id.label("county_id"),
            Township.id.label("township_id"),
            month.label("month"),
            literal(1).label("planned"),
            *(zero.label(c) for c in COUNTERS[1:]),
        )
        .select_from(PlanEntry)
        .join(Plan, Plan.id == PlanEntry.plan_id)
        .join(Township, Township.id == Plan.township_id)
    )
    held = Screening.outcome.in_(HELD)

    def one(condition: Any, value: Any = 1) -> Any:
        return case((condition, value), else_=0)

    screened = select(
        Screening.county_id,
        func.coalesce(Screening.township_id, literal(NO_TOWNSHIP)),
        month_start(Screening.screened_on),
        zero,
        one(held & Screening.plan_entry_id.is_not(None)),
        one(Screening.outcome == ScreeningOutcome.HELD),
        one(Screening.outcome == ScreeningOutcome.MOVED),
        one(Screening.outcome == ScreeningOutcome.NOT_HELD),
        one(held, Screening.viewers),
        one(held, func.coalesce(Screening.party_members, 0)),
        one(held, func.coalesce(Screening.masses, 0)),
    )
    rows = union_all(planned, screened).subquery("raw")
    grouped = select(
        rows.c.county_id,
        rows.c.township_id,
        rows.c.month,
        *(func.sum(rows.c[c]) for c in COUNTERS),
    ).group_by(rows.c.county_id, rows.c.township_id, rows.c.month)
    session.execute(
        insert(MonthRollup).from_select(["county_id", "township_id", "month", *COUNTERS], grouped)
    )
    r = MonthRollup
    session.execute(
        insert(CountyMonthRollup).from_select(
            ["county_id", "month", *COUNTERS],
            select(r.county_id, r.month, *(func.sum(getattr(r, c)) for c in COUNTERS)).group_by(
                r.county_id, r.month
            ),
        )
    )
    year, mon = date_part("year", Screening.screened_on), date_part("month", Screening.screened_on)
    months = (
        select(
            Screening.point_id.label("point_id"),
            Screening.county_id.label("county_id"),
            Screening.township_id.label("township_id"),
            year.label("year"),
            mon.label("month"),
        )
        .where(Screening.point_id.is_not(None), held)
        .distinct()
        .subquery()
    )
    bits = select(
        months.c.point_id,
        months.c.year,
        func.min(months.c.county_id),
        func.min(months.c.township_id),
        func.sum(literal(1).op("<<")(months.c.month - 1)),
    ).group_by(months.c.point_id, months.c.year)
    session.execute(
        insert(PointYear).from_select(
            ["point_id", "year", "county_id", "township_id", "months"], bits
        )
    )
    session.flush()
    counts = (
        session.scalar(select(func.count()).select_from(MonthRollup)) or 0,
        session.scalar(select(func.count()).select_from(PointYear)) or 0,
    )
    return int(counts[0]), int(counts[1])
