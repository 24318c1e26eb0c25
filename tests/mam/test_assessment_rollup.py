"""The assessment rollup stays equal to the raw rows through random plan and report work.

A seeded random sequence of plan entries added and withdrawn, reports filed (held, moved,
not held), corrected and filed outside the plan, and county-level reports, each committed
through the services; after every few steps the rollup tables are compared with the same
counts written here as plain SQL over ``plan_entry`` and ``screening`` (not the service's
queries). Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from mam.cli import cli
from mam.config import Settings
from mam.db import make_engine
from mam.models.network import PlanEntry, PointKind
from mam.models.release import Screening, ScreeningOutcome
from mam.services import assessment_rollup
from mam.services.assessment import AssessmentService
from mam.services.assessment_indicators import Context, buildout, coverage
from mam.services.assessment_sql import Grain, Period, Scope, add_months
from mam.services.county_distribution import CountyDistribution
from mam.services.network import NetworkService, PointData
from mam.services.plans import EntryData, PlanService
from mam.services.screening_reports import Attendance, ReportData, ScreeningReports
from storage import create_storage
from tests.network_world import World, build

TODAY = date.today()

RAW_ROWS = """
SELECT t.county_id, t.id AS township_id, pe.planned_on AS day, 1 AS planned, 0 AS done,
       0 AS held, 0 AS moved, 0 AS not_held, 0 AS attendance, 0 AS party, 0 AS masses
FROM plan_entry pe JOIN playback_plan p ON p.id = pe.plan_id
JOIN township t ON t.id = p.township_id
UNION ALL
SELECT s.county_id, COALESCE(s.township_id, 0), s.screened_on, 0,
       CASE WHEN s.outcome <> 'not_held' AND s.plan_entry_id IS NOT NULL THEN 1 ELSE 0 END,
       CASE WHEN s.outcome = 'held' THEN 1 ELSE 0 END,
       CASE WHEN s.outcome = 'moved' THEN 1 ELSE 0 END,
       CASE WHEN s.outcome = 'not_held' THEN 1 ELSE 0 END,
       CASE WHEN s.outcome <> 'not_held' THEN s.viewers ELSE 0 END,
       CASE WHEN s.outcome <> 'not_held' THEN COALESCE(s.party_members, 0) ELSE 0 END,
       CASE WHEN s.outcome <> 'not_held' THEN COALESCE(s.masses, 0) ELSE 0 END
FROM screening s
"""


def _raw_months(db: Session) -> dict[tuple[int, int, str], tuple[int, ...]]:
    # the month is taken in Python from each row's own date (no SQL date functions)
    out: dict[tuple[int, int, str], Counter[int]] = {}
    for county, town, day, *counts in db.execute(text(RAW_ROWS)):
        key = (int(county), int(town), str(day)[:7])
        cell = out.setdefault(key, Counter())
        for i, n in enumerate(counts):
            cell[i] += int(n)
    return {k: tuple(c[i] for i in range(8)) for k, c in out.items() if any(c.values())}


def _rollup_months(db: Session) -> dict[tuple[int, int, str], tuple[int, ...]]:
    rows = db.execute(
        text(
            "SELECT county_id, township_id, month, planned, done, held, moved, not_held, "
            "attendance, party_members, masses FROM assessment_month"
        )
    )
    return {
        (int(c), int(t), str(m)[:7]): tuple(int(x) for x in rest)
        for c, t, m, *rest in rows
        if any(rest)
    }


def _raw_points(db: Session) -> set[tuple[int, int, int]]:
    rows = db.execute(
        text(
            "SELECT point_id, screened_on FROM screening "
            "WHERE point_id IS NOT NULL AND outcome <> 'not_held'"
        )
    )
    return {(int(p), int(str(d)[:4]), int(str(d)[5:7])) for p, d in rows}


def _rollup_points(db: Session) -> set[tuple[int, int, int]]:
    rows = db.execute(text("SELECT point_id, year, months FROM assessment_point_year"))
    return {(int(p), int(y), m) for p, y, bits in rows for m in range(1, 13) if bits >> (m - 1) & 1}


def _raw_films(db: Session) -> dict[tuple[int, int, int], str]:
    rows = db.execute(
        text(
            "SELECT county_id, release_id, episode_id, MIN(screened_on) FROM screening "
            "WHERE episode_id IS NOT NULL AND outcome <> 'not_held' "
            "GROUP BY county_id, release_id, episode_id"
        )
    )
    return {(int(c), int(r), int(e)): str(d)[:10] for c, r, e, d in rows}


def _rollup_films(db: Session) -> dict[tuple[int, int, int], str]:
    rows = db.execute(
        text(
            "SELECT county_id, release_id, episode_id, first_on FROM assessment_film "
            "WHERE first_on IS NOT NULL"
        )
    )
    return {(int(c), int(r), int(e)): str(d)[:10] for c, r, e, d in rows}


def _release_months(films: dict[tuple[int, int, int], str]) -> dict[tuple[int, int, str], int]:
    out: Counter[tuple[int, int, str]] = Counter()
    for (county, release, _episode), day in films.items():
        out[(county, release, day[:7])] += 1
    return dict(out)


def _rollup_release_months(db: Session) -> dict[tuple[int, int, str], int]:
    rows = db.execute(
        text("SELECT county_id, release_id, month, films FROM assessment_release_month")
    )
    return {(int(c), int(r), str(m)[:7]): int(n) for c, r, m, n in rows if n}


RAW_NETWORK = """
SELECT t.county_id, t.id,
       (SELECT COUNT(*) FROM playback_point p WHERE p.township_id = t.id AND p.active),
       (SELECT COUNT(*) FROM network_organisation o WHERE o.township_id = t.id AND o.active),
       (SELECT COUNT(*) FROM network_organisation o WHERE o.township_id = t.id AND o.active
          AND EXISTS (SELECT 1 FROM playback_point p WHERE p.organisation_id = o.id
                      AND p.active))
FROM township t
"""


def _raw_network(db: Session) -> dict[int, tuple[int, ...]]:
    rows = db.execute(text(RAW_NETWORK))
    return {int(t): (int(c), *(int(x) for x in n)) for c, t, *n in rows if any(n)}


def _rollup_network(db: Session) -> dict[int, tuple[int, ...]]:
    rows = db.execute(
        text(
            "SELECT county_id, township_id, points, organisations, served "
            "FROM assessment_township_network"
        )
    )
    return {int(t): (int(c), *(int(x) for x in n)) for c, t, *n in rows}


def _assert_in_step(db: Session) -> None:
    assert _rollup_network(db) == _raw_network(db)
    assert _rollup_months(db) == _raw_months(db)
    assert _rollup_points(db) == _raw_points(db)
    assert _rollup_chains(db) == _raw_chains(db)
    assert _rollup_films(db) == _raw_films(db)
    assert _rollup_release_months(db) == _release_months(_raw_films(db))


def _steps(db: Session, world: World, tmp: Path, rng: random.Random, n: int) -> Counter[str]:
    store = create_storage("local", root=tmp / "store")
    plans = PlanService(db, world.county_a)
    reports = ScreeningReports(db, world.county_a, store, party_split=rng.random() < 0.5)
    county = CountyDistribution(db)
    films = [(world.received.id, world.e1), (world.received.id, world.e2)]
    towns = {world.t1.id: (world.t1, [world.p1, world.p2]), world.t2.id: (world.t2, [world.p3])}
    done: Counter[str] = Counter()
    for step in range(n):
        town, points = towns[rng.choice(list(towns))]
        day = TODAY - timedelta(days=rng.randrange(1, 75))
        entries = list(db.query(PlanEntry).all())
        op = rng.choice(
            [
                "plan",
                "plan",
                "plan",
                "report",
                "report",
                "correct",
                "withdraw",
                "unplanned",
                "county",
            ]
        )
        if op == "plan" or not entries:
            plan = plans.open(town, day)
            release, episode = rng.choice(films)
            plans.add_entry(plan, EntryData(release, episode, rng.choice(points).id, day))
            op = "plan"
        elif op in ("report", "correct"):
            entry = rng.choice(entries)
            outcome = rng.choice(list(ScreeningOutcome))
            held = outcome == ScreeningOutcome.HELD
            point = entry.point_id if held else rng.choice(towns[entry.plan.township_id][1]).id
            on = entry.planned_on if held else entry.planned_on - timedelta(days=rng.randrange(3))
            people = rng.randrange(5, 60)
            reports.report_entry(
                entry,
                ReportData(
                    outcome,
                    min(on, TODAY),
                    point,
                    Attendance(people, people - 2, 2)
                    if reports.party_split
                    else Attendance(people),
                    reason="" if held else "下雨",
                ),
            )
        elif op == "withdraw":
            free = [e for e in entries if not reports.for_entries([e])]
            if not free:
                continue
            plans.remove_entry(rng.choice(free))
        elif op == "unplanned":
            reports.report_unplanned(
                town,
                rng.choice(films),
                ReportData(
                    ScreeningOutcome.HELD,
                    day,
                    rng.choice(points).id,
                    Attendance(rng.randrange(1, 40), 1, 1)
                    if reports.party_split
                    else Attendance(rng.randrange(1, 40)),
                ),
                None,
            )
        else:
            county.report_screening(
                world.received,
                world.county_a,
                screened_on=day,
                place="县礼堂",
                viewers=rng.randrange(50, 200),
            )
        db.commit()
        done[op] += 1
        if step % 10 == 9:
            _assert_in_step(db)
    return done


@pytest.mark.parametrize("seed", [7, 2026])
def test_rollup_matches_the_raw_rows_after_random_work(
    db: Session, tmp_path: Path, seed: int
) -> None:
    world = build(db)
    done = _steps(db, world, tmp_path, random.Random(seed), 80)  # noqa: S311 - a repeatable sequence
    assert done["plan"] >= 10 and done["report"] + done["correct"] >= 10, done
    _assert_in_step(db)
    assert sum(v[0] for v in _rollup_months(db).values()) == db.scalar(
        text("SELECT COUNT(*) FROM plan_entry")
    )


def test_rebuild_gives_the_same_tables_and_the_views_the_same_figures(
    db: Session, tmp_path: Path
) -> None:
    world = build(db)
    _steps(db, world, tmp_path, random.Random(99), 60)  # noqa: S311 - a repeatable sequence
    kept = (_rollup_months(db), _rollup_points(db), _rollup_films(db))
    assessment_rollup.rebuild(db)
    db.commit()
    assert (_rollup_months(db), _rollup_points(db), _rollup_films(db)) == kept
    period = Period.months((TODAY - timedelta(days=80)).strftime("%Y-%m"), TODAY.strftime("%Y-%m"))
    fast, raw = AssessmentService(db), AssessmentService(db, rollup=False)
    for grain, scope in [(Grain.COUNTY, Scope()), (Grain.TOWNSHIP, Scope(county_id=world.a.id))]:
        a, b = fast.scores(grain, period, scope), raw.scores(grain, period, scope)
        assert [(r.id, r.score, r.attendance, r.held) for r in a] == [
            (r.id, r.score, r.attendance, r.held) for r in b
        ]
        assert [[(f.numerator, f.denominator) for f in r.figures] for r in a] == [
            [(f.numerator, f.denominator) for f in r.figures] for r in b
        ]
        assert fast.monthly(grain, period, scope).cells == raw.monthly(grain, period, scope).cells


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_cli_rebuild_repairs_a_rollup_written_around(run, session: Session) -> None:  # type: ignore[no-untyped-def]
    world = build(session)
    day = TODAY - timedelta(days=3)
    session.add(  # a report written around the services: the rollup does not know it
        Screening(
            release_id=world.received.id,
            county_id=world.a.id,
            township_id=world.t1.id,
            point_id=world.p1.id,
            episode_id=world.e1,
            screened_on=day,
            place="东村",
            viewers=31,
            outcome=ScreeningOutcome.HELD,
        )
    )
    session.commit()
    assert _rollup_months(session) == {} != _raw_months(session)
    session.rollback()  # SQLite: hold no transaction while the command writes
    result = run("assessment", "rebuild-rollup")
    assert result.exit_code == 0, result.output
    assert "1 township-month rows, 1 point-year rows" in result.output
    _assert_in_step(session)
    assert _rollup_months(session) == {
        (world.a.id, world.t1.id, day.strftime("%Y-%m")): (0, 0, 1, 0, 0, 31, 0, 0)
    }


def test_two_reports_of_one_film_racing_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    """Two transactions report the same film (months apart) at once: the second waits for
    the first's rollup row and counts the film once, in the earlier month."""
    engine = make_engine(pg_url)
    first, second = Session(engine), Session(engine)
    try:
        world = build(first)
        store = create_storage("local", root=tmp_path / "store")
        film = (world.received.id, world.e1)
        late, early = TODAY - timedelta(days=2), TODAY - timedelta(days=70)

        def report(db: Session, day: date) -> None:
            actor = db.get(type(world.county_a), world.county_a.id)
            town = db.get(type(world.t1), world.t1.id)
            assert actor is not None and town is not None
            ScreeningReports(db, actor, store).report_unplanned(
                town,
                film,
                ReportData(ScreeningOutcome.HELD, day, world.p1.id, Attendance(9)),
                None,
            )

        report(first, late)  # not committed yet: holds the film's rollup row
        racer = threading.Thread(target=lambda: (report(second, early), second.commit()))
        racer.start()
        racer.join(timeout=1.0)
        assert racer.is_alive()  # waiting for the first transaction's row lock
        first.commit()
        racer.join(timeout=30)
        assert not racer.is_alive()
        first.expire_all()
        _assert_in_step(first)
        assert sum(_rollup_release_months(first).values()) == 1
    finally:
        first.close()
        second.close()
        engine.dispose()


def _raw_chains(db: Session) -> dict[tuple[int, int], tuple[int | None, int | None]]:
    """Every point's years from its first to its last screened year, each with the last
    screened month before it and the first after it (``year × 12 + month − 1``), from the
    raw reports."""
    months: dict[int, list[int]] = {}
    for point, year, month in sorted(_raw_points(db)):
        months.setdefault(point, []).append(year * 12 + month - 1)
    out = {}
    for point, seen in months.items():
        for year in range(seen[0] // 12, seen[-1] // 12 + 1):
            before = [m for m in seen if m < year * 12]
            after = [m for m in seen if m >= (year + 1) * 12]
            out[(point, year)] = (before[-1] if before else None, after[0] if after else None)
    return out


def _rollup_chains(db: Session) -> dict[tuple[int, int], tuple[int | None, int | None]]:
    rows = db.execute(text('SELECT point_id, year, "before", "after" FROM assessment_point_year'))
    return {(int(p), int(y)): (b, a) for p, y, b, a in rows}


def _covered(db: Session, period: Period, grain: Grain, scope: Scope) -> dict[int, tuple[int, int]]:
    """Active points with a held (or moved) report in the period, and active points, per
    group: plain SQL over the reports and points (not the service's queries)."""
    key = "t.county_id" if grain == Grain.COUNTY else "t.id"
    where, params = "", {"start": period.start, "end": period.end}
    if scope.county_id is not None:
        where, params["c"] = " AND t.county_id = :c", scope.county_id
    if scope.township_id is not None:
        where, params["t"] = " AND t.id = :t", scope.township_id
    query = (
        f"SELECT {key}, SUM(CASE WHEN EXISTS (SELECT 1 FROM screening s WHERE "  # noqa: S608 - fixed names, bound values
        "s.point_id = p.id AND s.outcome <> 'not_held' AND s.screened_on >= :start AND "
        "s.screened_on < :end) THEN 1 ELSE 0 END), COUNT(*) FROM playback_point p "
        f"JOIN township t ON t.id = p.township_id WHERE p.active{where} GROUP BY {key}"
    )
    rows = db.execute(text(query), params)
    return {int(k): (int(n), int(d)) for k, n, d in rows}


def test_coverage_over_years_follows_reports_moved_across_years(
    db: Session, tmp_path: Path
) -> None:
    """Reports years apart (with empty years between), then moved and withdrawn: the point
    rows' links stay equal to the raw reports, and coverage read from the rollup equals the
    plain count for periods of one month to five years starting in every month."""
    world = build(db)
    store = create_storage("local", root=tmp_path / "store")
    plans = PlanService(db, world.county_a)
    reports = ScreeningReports(db, world.county_a, store)
    film = (world.received.id, world.e1)
    first = TODAY.replace(day=1) - timedelta(days=4 * 365)
    late = (TODAY.year - 1, 7)  # the report moved out of its year later on

    def held(town, point, year: int, month: int, day: int = 10):  # type: ignore[no-untyped-def]
        on = date(year, month, day)
        plan = plans.open(town, on)
        entry = plans.add_entry(plan, EntryData(*film, point.id, on))
        reports.report_entry(entry, ReportData(ScreeningOutcome.HELD, on, point.id, Attendance(9)))
        return entry

    held(world.t1, world.p1, first.year, 3)
    moved = held(world.t1, world.p1, *late)
    held(world.t1, world.p2, first.year + 1, 12, 28)
    held(world.t2, world.p3, TODAY.year, 1)
    db.commit()

    def check() -> None:
        assert _rollup_chains(db) == _raw_chains(db)
        start = date(first.year, 1, 1)
        while start <= TODAY:
            for length in (1, 2, 7, 13, 30, 60):
                end = add_months(start, length - 1)
                period = Period.months(start.strftime("%Y-%m"), end.strftime("%Y-%m"))
                for grain, scope in [
                    (Grain.COUNTY, Scope()),
                    (Grain.TOWNSHIP, Scope(county_id=world.a.id)),
                    (Grain.TOWNSHIP, Scope(township_id=world.t1.id)),
                ]:
                    ctx = Context(db, grain, period, scope, 7)
                    got = {k: v for k, v in coverage(ctx).items() if v != (0, 0)}
                    assert got == _covered(db, period, grain, scope), (period, grain, scope)
            start = add_months(start, 1)

    check()
    # moved within the township to another year: p1's empty years change
    reports.report_entry(
        moved,
        ReportData(
            ScreeningOutcome.MOVED,
            date(first.year + 1, 2, 2),
            world.p1.id,
            Attendance(5),
            reason="下雨",
        ),
    )
    db.commit()
    check()
    # not held after all: p1 keeps its first year only
    reports.report_entry(
        moved,
        ReportData(
            ScreeningOutcome.NOT_HELD, date(first.year + 1, 2, 2), world.p1.id, None, reason="停电"
        ),
    )
    db.commit()
    check()
    assessment_rollup.rebuild(db)
    db.commit()
    check()


def test_network_changes_keep_build_out_and_coverage_in_step(db: Session, tmp_path: Path) -> None:
    """Points and organisations added, linked, deactivated and deleted through the network
    service: the township counts stay equal to the raw rows, and build-out and coverage read
    from the rollup equal the raw figures."""
    world = build(db)
    network = NetworkService(db, world.county_a)
    store = create_storage("local", root=tmp_path / "store")
    period = Period.months((TODAY - timedelta(days=40)).strftime("%Y-%m"), TODAY.strftime("%Y-%m"))

    def check() -> None:
        db.commit()
        assert _rollup_network(db) == _raw_network(db)
        for grain, scope in [
            (Grain.COUNTY, Scope()),
            (Grain.TOWNSHIP, Scope(county_id=world.a.id)),
            (Grain.TOWNSHIP, Scope(township_id=world.t2.id)),
        ]:
            fast = Context(db, grain, period, scope, 7)
            raw = Context(db, grain, period, scope, 7, rollup=False)
            assert buildout(fast) == buildout(raw), (grain, scope)
            got = {k: v for k, v in coverage(fast).items() if v != (0, 0)}
            assert got == {k: v for k, v in coverage(raw).items() if v != (0, 0)}, (grain, scope)

    check()
    org = network.add_organisation(world.t2, "南村", "village")
    check()
    point = network.add_point(world.t2, PointData("南村播放点", PointKind.VILLAGE))
    check()
    network.update_point(point, PointData("南村播放点", PointKind.VILLAGE, organisation_id=org.id))
    check()
    ScreeningReports(db, world.county_a, store).report_unplanned(
        world.t2,
        (world.received.id, world.e1),
        ReportData(ScreeningOutcome.HELD, TODAY - timedelta(days=3), point.id, Attendance(12)),
        None,
    )
    check()
    network.set_point_active(point, False)
    check()
    network.set_point_active(point, True)
    network.set_organisation_active(org, False)
    check()
    spare = network.add_point(world.t1, PointData("备用点", PointKind.SCHOOL))
    check()
    network.delete_point(spare)
    check()
    assert _rollup_network(db)[world.t2.id][2:] == (0, 0)  # its one organisation is inactive


def test_the_all_county_page_reads_the_rollup_not_the_rows(db: Session, tmp_path: Path) -> None:
    """The all-county scores and heatmap (issue #13's slow page) read rollup tables and small
    reference tables only, one statement per figure family: no screening, plan entry or
    organisation row is read, whatever the period's length."""
    world = build(db)
    _steps(db, world, tmp_path, random.Random(5), 20)  # noqa: S311 - a repeatable sequence
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        for first in ((TODAY - timedelta(days=60)).strftime("%Y-%m"), "2022-01"):
            seen.clear()
            period = Period.months(first, TODAY.strftime("%Y-%m"))
            service = AssessmentService(db)
            service.scores(Grain.COUNTY, period, Scope())
            service.monthly(Grain.COUNTY, period, Scope())
            tables = {
                t.lower()
                for s in seen
                for t in re.findall(r'(?:FROM|JOIN)\s+"?([a-z_]+)', s, flags=re.IGNORECASE)
            }
            assert tables <= {
                "assessment_county_month",
                "assessment_point_year",
                "assessment_release_month",
                "assessment_township_network",
                "county",
                "learner",
                "playback_point",  # which points are active
                "receipt",
                "release_item",
                "release_set",
                "release_target",
                "study_day",
            }, tables
            assert len(seen) <= 8, seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
