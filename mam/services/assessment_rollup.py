"""The assessment's monthly rollup (汇总表), kept in step with plans and screenings.

Two tables (``mam.models.assessment``) hold the dashboard counts already grouped:

* ``assessment_month`` per (county, township, month): plan entries, reports against the plan
  held or moved, reports by outcome, attendance (and 党员/群众). County-level reports made
  before the network count under township 0. ``assessment_county_month`` holds the same
  counters summed per (county, month) for the all-county views.
* ``assessment_point_year`` per (point, year): a bit per month in which the point had a held
  (or moved) screening, and links to the point's last screened month before the year and
  first after it (:func:`chain`), so "points with a screening in the period" reads one row
  per point whatever the period's length.
* ``assessment_township_network`` per township: active points, active organisations and
  those an active point serves (:func:`township_network`, called by ``NetworkService``).
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

from sqlalchemy import case, delete, func, insert, literal, select, union_all, update
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
    TownshipNetwork,
)
from mam.models.network import Organisation, Plan, PlanEntry, PlaybackPoint, Township
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
    changed = sorted(  # a fixed order: two reports moving between the same points lock alike
        {
            (c.point_id, c.county_id, c.township_id, c.day.replace(day=1))
            for c in (before, after)
            if c is not None and c.point_id is not None
        }
    )
    for counted in changed:
        _point_month(session, *counted)
    for point_id in sorted({c[0] for c in changed}):
        point_chain(session, point_id)


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
    # the point's row first (FOR NO KEY UPDATE: reports naming the point still insert), so
    # two transactions changing the point's years take turns and the second one's chain
    # (:func:`point_chain`) is computed from what the first committed
    session.execute(
        select(PlaybackPoint.id).where(PlaybackPoint.id == point_id).with_for_update(key_share=True)
    )
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


def month_number(year: int, month: int) -> int:
    """Return the month's number in :class:`PointYear`'s links (``year × 12 + month − 1``)."""
    return year * 12 + month - 1


def _last(year: int, months: int) -> int:
    return month_number(year, months.bit_length())


def _first(year: int, months: int) -> int:
    return month_number(year, (months & -months).bit_length())


@dataclass(frozen=True)
class YearRow:
    """One point's year as :func:`chain` lays it out."""

    year: int
    county_id: int
    township_id: int
    months: int
    before: int | None
    after: int | None


def chain(years: dict[int, tuple[int, int, int]]) -> list[YearRow]:
    """Return a point's rows from ``{year: (county, township, months)}``: every year from
    its first to its last screened year, each linked to the last screened month before it
    and the first after it (empty when no month is screened)."""
    screened = sorted(y for y, (_c, _t, m) in years.items() if m)
    if not screened:
        return []
    rows: list[YearRow] = []
    county, township = years[screened[-1]][:2]
    before: int | None = None
    for year in range(screened[0], screened[-1] + 1):
        county, township, months = years.get(year, (county, township, 0))
        rows.append(YearRow(year, county, township, months, before, None))
        if months:
            before = _last(year, months)
    after: int | None = None
    for n in range(len(rows) - 1, -1, -1):
        row = rows[n]
        rows[n] = YearRow(row.year, row.county_id, row.township_id, row.months, row.before, after)
        if row.months:
            after = _first(row.year, row.months)
    return rows


def point_chain(session: Session, point_id: int) -> None:
    """Lay out the point's rows again after a bit changed (few rows: one per year): add the
    empty years between screened ones, drop empty ones outside, set the links."""
    p = PointYear
    have = {
        int(y): (int(i), int(c), int(t), int(m), b, a)
        for i, y, c, t, m, b, a in session.execute(
            select(p.id, p.year, p.county_id, p.township_id, p.months, p.before, p.after).where(
                p.point_id == point_id
            )
        )
    }
    rows = {r.year: r for r in chain({y: v[1:4] for y, v in have.items()})}
    gone = [v[0] for y, v in have.items() if y not in rows]
    if gone:
        session.execute(delete(p).where(p.id.in_(gone)))
    for year, row in rows.items():
        old = have.get(year)
        if old is None:
            session.execute(
                insert(p).values(
                    point_id=point_id,
                    year=year,
                    county_id=row.county_id,
                    township_id=row.township_id,
                    months=0,
                    before=row.before,
                    after=row.after,
                )
            )
        elif old[4:] != (row.before, row.after):
            session.execute(
                update(p).where(p.id == old[0]).values(before=row.before, after=row.after)
            )


def _network_counts(township_ids: Any) -> Any:
    """Return (county, township, active points, active organisations, served) per township."""
    served = (
        select(PlaybackPoint.organisation_id.label("organisation_id"))
        .where(PlaybackPoint.active, PlaybackPoint.organisation_id.is_not(None))
        .distinct()
        .subquery("served")
    )
    points = (
        select(PlaybackPoint.township_id.label("township_id"), func.count().label("n"))
        .where(PlaybackPoint.active, PlaybackPoint.township_id.in_(township_ids))
        .group_by(PlaybackPoint.township_id)
        .subquery("points")
    )
    organisations = (
        select(
            Organisation.township_id.label("township_id"),
            func.count().label("n"),
            func.count(served.c.organisation_id).label("served"),
        )
        .outerjoin(served, served.c.organisation_id == Organisation.id)
        .where(Organisation.active, Organisation.township_id.in_(township_ids))
        .group_by(Organisation.township_id)
        .subquery("organisations")
    )
    return (
        select(
            Township.county_id,
            Township.id,
            func.coalesce(points.c.n, 0),
            func.coalesce(organisations.c.n, 0),
            func.coalesce(organisations.c.served, 0),
        )
        .outerjoin(points, points.c.township_id == Township.id)
        .outerjoin(organisations, organisations.c.township_id == Township.id)
        .where(Township.id.in_(township_ids))
        .where((points.c.n.is_not(None)) | (organisations.c.n.is_not(None)))
    )


NETWORK_COLUMNS = ["county_id", "township_id", "points", "organisations", "served"]


def township_network(session: Session, *township_ids: int) -> None:
    """Count the townships' network again (after a point or organisation changed; few rows)."""
    session.flush()
    ids = sorted(set(township_ids))
    # the townships' rows first, so two changes in one township take turns (and the second
    # one counts what the first committed)
    session.execute(
        select(Township.id).where(Township.id.in_(ids)).order_by(Township.id)
        .with_for_update(key_share=True)
    )  # fmt: skip
    session.execute(delete(TownshipNetwork).where(TownshipNetwork.township_id.in_(ids)))
    session.execute(insert(TownshipNetwork).from_select(NETWORK_COLUMNS, _network_counts(ids)))


def rebuild_township_network(session: Session) -> None:
    """Recompute ``assessment_township_network`` for every township."""
    session.execute(delete(TownshipNetwork))
    session.execute(
        insert(TownshipNetwork).from_select(NETWORK_COLUMNS, _network_counts(select(Township.id)))
    )


def rebuild(session: Session, *, chain_points: bool = True) -> tuple[int, int]:
    """Recompute the rollup tables from the raw rows; return their row counts.

    ``chain_points=False`` leaves out the point-year links (and the empty years between
    screened ones) of revision 0025_rollup_fast: the back-fill of revision 0023_rollup, which
    runs before those columns exist, uses it."""
    session.flush()
    session.execute(delete(MonthRollup))
    session.execute(delete(CountyMonthRollup))
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
    rebuild_point_years(session, chain_points=chain_points)
    if chain_points:  # the tables of 0025_rollup_fast
        rebuild_township_network(session)
    session.flush()
    counts = (
        session.scalar(select(func.count()).select_from(MonthRollup)) or 0,
        session.scalar(select(func.count()).select_from(PointYear)) or 0,
    )
    return int(counts[0]), int(counts[1])


def rebuild_point_years(session: Session, *, chain_points: bool = True) -> None:
    """Recompute ``assessment_point_year`` from the raw rows (laid out by :func:`chain`)."""
    held = Screening.outcome.in_(HELD)
    session.execute(delete(PointYear))
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
    if chain_points:
        _rebuild_chains(session, bits.order_by(months.c.point_id, months.c.year))
    else:
        session.execute(
            insert(PointYear).from_select(
                ["point_id", "year", "county_id", "township_id", "months"], bits
            )
        )


def _rebuild_chains(session: Session, bits: Any) -> None:
    """Insert every point's rows as :func:`chain` lays them out, from the grouped bits."""
    batch: list[dict[str, Any]] = []

    def flush_point(point_id: int | None, years: dict[int, tuple[int, int, int]]) -> None:
        for row in chain(years):
            batch.append(
                {
                    "point_id": point_id,
                    "year": row.year,
                    "county_id": row.county_id,
                    "township_id": row.township_id,
                    "months": row.months,
                    "before": row.before,
                    "after": row.after,
                }
            )
        if len(batch) >= 5000:
            session.execute(insert(PointYear), batch)
            batch.clear()

    current: int | None = None
    years: dict[int, tuple[int, int, int]] = {}
    for point_id, year, county_id, township_id, months in session.execute(bits):
        if point_id != current:
            if current is not None:
                flush_point(current, years)
            current, years = int(point_id), {}
        years[int(year)] = (int(county_id), int(township_id), int(months))
    if current is not None:
        flush_point(current, years)
    if batch:
        session.execute(insert(PointYear), batch)
