"""Assessment benchmark: 300 counties × 5 years of plans, 1 million screenings, on PostgreSQL.

    .venv/bin/python bench/assessment.py [--counties 300] [--screenings 1000000] [--runs 20]
                                         [--pg URL] [--keep]

In one run it:

1. builds a throw-away schema of the given database (default: the test database at
   127.0.0.1:5432) through the migrations, and fills it with COPY: ``--counties`` counties of
   10 townships of 8 playback points (and the organisations that should have them), one
   release set a month for 5 years (half to every county, half to 200 of them) with
   receipts, a monthly plan per township and ``--screenings`` screening reports, 90 % of
   them against a plan entry (held 80 %, moved 10 %, not held 10 %);
   then builds the rollup (revisions 0023_rollup and 0025_rollup_fast) from those rows, as
   ``mam assessment rebuild-rollup`` does after a bulk load;
2. times every dashboard view's queries (the service calls the page makes, its release sets
   included) ``--runs`` times
   on random counties and townships, for a year and for five years, and prints p50/p95 per
   view (target p95 < 200 ms);
3. times the same views in the same run grouping the raw rows (``AssessmentService(...,
   rollup=False)``, the approach before the rollup) and prints the ratio per view;
   ``--index-compare`` also times them without the indexes of revision 0021_assessment;
4. times the rendered pages too (the Flask app on the same schema, signed in as an admin:
   the all-county page, a county's, a township's, a drill-down), p50/p95 for a year and five
   years; ``--no-pages`` leaves them out;
5. drops the schema (unless ``--keep``).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mam import migrate
from mam.config import Settings
from mam.models import Role
from mam.models.core import User
from mam.runtime import build_runtime
from mam.services.assessment import AssessmentService, ScreeningFilter
from mam.services.assessment_rollup import rebuild
from mam.services.assessment_sql import Grain, Period, Scope, add_months
from mam.services.users import UserService
from web import create_app

ROLLUP = ("assessment_month", "assessment_county_month", "assessment_point_year",
          "assessment_film")
TOWNSHIPS = 10
POINTS = 8
MONTHS = 60
FIRST = date(2022, 1, 1)
KINDS = ["village", "community", "enterprise", "social_org", "school"]
# Revision 0021_assessment's indexes (name, table, columns) — dropped for the naive timing.
INDEXES = [
    ("ix_plan_entry_day_plan", "plan_entry", "planned_on, plan_id"),
    ("ix_screening_day_groups", "screening",
     "screened_on, county_id, township_id, point_id, outcome, viewers, plan_entry_id"),
    ("ix_screening_county_film", "screening",
     "county_id, release_id, episode_id, outcome, screened_on"),
    ("ix_screening_township_film", "screening",
     "township_id, release_id, episode_id, outcome, screened_on"),
]


def _copy(conn: sa.Connection, table: str, columns: str, rows: list[tuple[object, ...]]) -> None:
    raw: Any = conn.connection.dbapi_connection  # psycopg 3: COPY ... FROM STDIN
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


Town = tuple[int, int]  # township id, county id
Supply = dict[tuple[int, int], list[tuple[int, int]]]  # (county, month) -> (release, episode)


def _network(conn: sa.Connection, counties: int, now: datetime) -> list[Town]:
    _copy(conn, "county", "id, code, name, villages, playback_points",
          [(c, f"c{c:03d}", f"县{c:03d}", 80, 0) for c in range(1, counties + 1)])
    towns = [(t, (t - 1) // TOWNSHIPS + 1) for t in range(1, counties * TOWNSHIPS + 1)]
    _copy(conn, "township", "id, county_id, name, contact_name, contact_phone, active, "
          "created_at", [(t, c, f"乡镇{t}", "", "", True, now) for t, c in towns])
    orgs: list[tuple[object, ...]] = []
    points: list[tuple[object, ...]] = []
    for t, _c in towns:
        for p in range(POINTS + 1):  # one organisation more than points: build-out < 100 %
            oid = len(orgs) + 1
            kind = KINDS[p % len(KINDS)]
            orgs.append((oid, t, f"单位{oid}", kind, True, now))
            if p < POINTS:
                points.append((len(points) + 1, t, oid if p < POINTS - 1 else None,
                               f"网点{len(points) + 1}", kind, "", "", "", p != 3, now))
    _copy(conn, "network_organisation", "id, township_id, name, kind, active, created_at", orgs)
    _copy(conn, "playback_point", "id, township_id, organisation_id, name, kind, address, "
          "contact_name, contact_phone, active, created_at", points)
    return towns


def _releases(conn: sa.Connection, counties: int, now: datetime, rng: random.Random) -> Supply:
    episodes = range(1, MONTHS * 8 + 1)
    _copy(conn, "programme", "id, name, description, created_at", [(1, "时代风采", "", now)])
    _copy(conn, "episode", "id, programme_id, title, synopsis, source_type, created_at, "
          "updated_at", [(e, 1, f"第{e}集", "", "self", now, now) for e in episodes])
    _copy(conn, "asset", "id, sha256, storage_key, size, original_filename, media_info, "
          "created_at", [(e, f"{e:064x}", f"originals/{e:064x}", 1, "a.mp4", "{}", now)
                         for e in episodes])
    _copy(conn, "version", "id, episode_id, number, state, asset_id, created_at, updated_at, "
          "lock_version", [(e, e, 1, "released", e, now, now, 1) for e in episodes])
    sets: list[tuple[object, ...]] = []
    items: list[tuple[object, ...]] = []
    targets: list[tuple[object, ...]] = []
    receipts: list[tuple[object, ...]] = []
    supply: Supply = {}
    for m in range(MONTHS):
        month = add_months(FIRST, m)
        published = datetime(month.year, month.month, 3, 9, tzinfo=UTC)
        everyone = m % 2 == 0
        sets.append((m + 1, f"{month:%Y年%m月}期", "", month, "published", everyone, now,
                     published, 1))
        eps = list(range(m * 8 + 1, m * 8 + 9))
        items += [(len(items) + n + 1, m + 1, e, e, n) for n, e in enumerate(eps)]
        everybody = range(1, counties + 1)
        got = everybody if everyone else rng.sample(everybody, min(200, counties))
        if not everyone:
            targets += [(len(targets) + n + 1, m + 1, c) for n, c in enumerate(got)]
        for c in got:
            supply.setdefault((c, m), []).extend((m + 1, e) for e in eps)
            if rng.random() < 0.9:
                late = timedelta(days=rng.choice([1, 2, 3, 5, 8, 12, 20]))
                receipts.append((len(receipts) + 1, m + 1, c, published + late))
    _copy(conn, "release_set", "id, name, notes, publish_date, state, all_counties, created_at, "
          "published_at, lock_version", sets)
    _copy(conn, "release_item", "id, release_id, episode_id, version_id, position", items)
    _copy(conn, "release_target", "id, release_id, county_id", targets)
    _copy(conn, "receipt", "id, release_id, county_id, confirmed_at", receipts)
    return supply


def _plans(conn: sa.Connection, towns: list[Town], supply: Supply, screenings: int,
           now: datetime, rng: random.Random) -> int:
    per_plan = max(1, round(screenings / (len(towns) * MONTHS)))
    plans: list[tuple[object, ...]] = []
    entries: list[tuple[object, ...]] = []
    reports: list[tuple[object, ...]] = []
    outcomes = ["held"] * 8 + ["moved", "not_held"]
    for t, c in towns:
        for m in range(MONTHS):
            month = add_months(FIRST, m)
            pid = len(plans) + 1
            plans.append((pid, t, month, "", now, now))
            films = supply.get((c, m)) or supply.get((c, m - 1)) or [(1, 1)]
            for _ in range(per_plan):
                rel, ep = rng.choice(films)
                point = (t - 1) * POINTS + rng.randrange(1, POINTS + 1)
                day = month + timedelta(days=rng.randrange(28))
                eid = len(entries) + 1
                entries.append((eid, pid, rel, ep, point, day, ""))
                if len(reports) < screenings * 0.9:
                    outcome = rng.choice(outcomes)
                    seen = 0 if outcome == "not_held" else rng.randrange(10, 120)
                    reports.append((len(reports) + 1, rel, c, day, f"网点{point}", seen, now, ep,
                                    t, point, eid, outcome, ""))
    while len(reports) < screenings:  # unplanned reports
        t, c = rng.choice(towns)
        m = rng.randrange(MONTHS)
        rel, ep = rng.choice(supply.get((c, m)) or [(1, 1)])
        point = (t - 1) * POINTS + rng.randrange(1, POINTS + 1)
        day = add_months(FIRST, m) + timedelta(days=rng.randrange(28))
        reports.append((len(reports) + 1, rel, c, day, f"网点{point}", rng.randrange(10, 90), now,
                        ep, t, point, None, "held", ""))
    _copy(conn, "playback_plan", "id, township_id, month, notes, created_at, updated_at", plans)
    _copy(conn, "plan_entry", "id, plan_id, release_id, episode_id, point_id, planned_on, note",
          entries)
    _copy(conn, "screening", "id, release_id, county_id, screened_on, place, viewers, "
          "reported_at, episode_id, township_id, point_id, plan_entry_id, outcome, note", reports)
    return len(entries)


def generate(url: str, counties: int, screenings: int, rng: random.Random) -> None:
    """Fill the schema behind ``url`` with the network, releases, plans and screenings."""
    engine = sa.create_engine(url)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        t0 = time.perf_counter()
        towns = _network(conn, counties, now)
        supply = _releases(conn, counties, now, rng)
        print(f"network and releases: {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        entries = _plans(conn, towns, supply, screenings, now, rng)
        print(f"plans ({entries} entries) and {screenings} screenings by COPY: "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
    with Session(engine) as session:
        t0 = time.perf_counter()
        months, points = rebuild(session)
        session.commit()
        print(f"rollup rebuilt ({months} township-months, {points} point-years): "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("county", "township", "playback_point", "network_organisation",
                      "playback_plan", "plan_entry", "screening", "release_set", "receipt",
                      *ROLLUP):
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
    engine.dispose()


def views(service: AssessmentService, counties: int, rng: random.Random,
          period: Period) -> dict[str, Callable[[], object]]:
    """Return each dashboard page as the service calls it makes (random county/township)."""

    def index() -> object:
        return (service.scores(Grain.COUNTY, period, Scope()),
                service.monthly(Grain.COUNTY, period, Scope()))

    def county() -> object:
        inside = Scope(county_id=rng.randrange(1, counties + 1))
        return (service.scores(Grain.COUNTY, period, inside),
                service.scores(Grain.TOWNSHIP, period, inside),
                service.monthly(Grain.TOWNSHIP, period, inside),
                service.monthly(Grain.COUNTY, period, inside),
                service.releases(Grain.COUNTY, period, inside))

    def township() -> object:
        inside = Scope(township_id=rng.randrange(1, counties * TOWNSHIPS + 1))
        return (service.scores(Grain.TOWNSHIP, period, inside),
                service.scores(Grain.POINT, period, inside),
                service.monthly(Grain.POINT, period, inside),
                service.monthly(Grain.TOWNSHIP, period, inside),
                service.releases(Grain.TOWNSHIP, period, inside))

    def drill() -> object:
        month = rng.choice(period.month_keys())
        where = ScreeningFilter(county_id=rng.randrange(1, counties + 1), month=month)
        return service.screenings(period, Scope(), where)

    def drill_township() -> object:
        inside = Scope(township_id=rng.randrange(1, counties * TOWNSHIPS + 1))
        return service.screenings(period, inside, ScreeningFilter())

    return {"index (counties: heatmap, trends, ranking)": index, "county page": county,
            "township page": township, "drill-down county × month": drill,
            "drill-down township": drill_township}


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm the cache and the plan
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def measure(url: str, counties: int, runs: int, period: Period, seed: int,
            rollup: bool = True) -> dict[str, float]:
    engine = sa.create_engine(url)
    results = {}
    with Session(engine) as session:
        service = AssessmentService(session, rollup=rollup)
        for name, fn in views(service, counties, random.Random(seed), period).items():
            ms = timed(fn, runs)
            results[name] = p95(ms)
            print(f"  {name:45s} p50 {statistics.median(ms):7.1f} ms   p95 {p95(ms):7.1f} ms",
                  flush=True)
    engine.dispose()
    return results


def pages(url: str, counties: int, runs: int, periods: list[Period], seed: int) -> dict[str, float]:
    """Time the rendered dashboard pages through the Flask app (test client, admin)."""
    rng = random.Random(seed)
    password = "bench assessment pages"  # a throw-away account of the bench schema
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), database_url=url, secret_key="b" * 40).resolved()
        runtime = build_runtime(settings)
        app = create_app({"TESTING": True}, runtime=runtime)
        with runtime.db.session() as s:
            if s.scalar(sa.select(User.id).where(User.username == "bench-admin")) is None:
                UserService(s).create("bench-admin", password, [Role.ADMIN], display_name="bench")
                s.commit()
        client = app.test_client()
        form = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', form)
        assert token is not None
        signed = client.post("/login", data={"username": "bench-admin", "password": password,
                                             "csrf_token": token.group(1)})
        assert signed.status_code == 302, signed.status_code
        for period in periods:
            keys = period.month_keys()
            print(f"rendered pages, period {period.label}:")
            for name in ("all counties", "county", "township", "drill-down county × month"):

                def get(name: str = name, keys: list[str] = keys) -> object:
                    where = {"start": keys[0], "end": keys[-1]}
                    path = "/assessment/"
                    if name == "county":
                        path += f"county/{rng.randrange(1, counties + 1)}"
                    elif name == "township":
                        path += f"township/{rng.randrange(1, counties * TOWNSHIPS + 1)}"
                    elif name != "all counties":
                        path += "screenings"
                        where |= {"county": str(rng.randrange(1, counties + 1)),
                                  "month": rng.choice(keys)}
                    response = client.get(path, query_string=where)
                    assert response.status_code == 200, (path, response.status_code)
                    return response

                ms = timed(get, runs)
                results[f"page {name} ({len(keys)} months)"] = p95(ms)
                print(f"  {name:45s} p50 {statistics.median(ms):7.1f} ms   p95 {p95(ms):7.1f} ms",
                      flush=True)
        runtime.close()
    return results


def index_compare(url: str, counties: int, runs: int, year: Period,
                  fast: dict[str, float]) -> None:
    """Time the views (on the rollup) without the 0021_assessment indexes."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for name, _table, _cols in INDEXES:
            conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{name}"')
    print("\nwithout the 0021_assessment indexes (rollup):")
    bare = measure(url, counties, max(3, runs // 4), year, seed=1)
    with engine.begin() as conn:
        for name, table, cols in INDEXES:
            conn.exec_driver_sql(f'CREATE INDEX "{name}" ON {table} ({cols})')
    engine.dispose()
    for name, value in bare.items():
        print(f"  {name:45s} p95 ratio without/with indexes: {value / fast[name]:.1f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counties", type=int, default=300)
    parser.add_argument("--screenings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep", action="store_true", help="keep the schema (name printed)")
    parser.add_argument("--schema", help="reuse a kept schema instead of generating")
    parser.add_argument("--no-pages", action="store_true",
                        help="leave out the rendered pages (Flask app) timing")
    parser.add_argument("--index-compare", action="store_true",
                        help="also time the views without the 0021_assessment indexes")
    args = parser.parse_args()
    schema = args.schema or f"mam_assess_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.pg)
    scoped = f"{args.pg}?options=-csearch_path%3D{schema}"
    try:
        if not args.schema:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            migrate.upgrade(scoped)
            generate(scoped, args.counties, args.screenings, random.Random(13))
        year = Period.months("2026-01", "2026-12")
        five = Period.months("2022-01", "2026-12")
        print(f"\nPostgreSQL, {args.counties} counties, {args.screenings} screenings, "
              f"{args.runs} runs per view, reading the rollup; period {year.label}:")
        fast = measure(scoped, args.counties, args.runs, year, seed=1)
        print(f"period {five.label} (five years):")
        fast.update({f"{k} (5 years)": v for k, v in
                     measure(scoped, args.counties, args.runs, five, seed=2).items()})
        worst = max(fast.values())
        print(f"worst p95 on the rollup: {worst:.1f} ms (target < 200 ms): "
              f"{'met' if worst < 200 else 'NOT met'}")
        raw_runs = max(3, args.runs // 4)
        print(f"\nthe same views grouping the raw rows (no rollup), {raw_runs} runs; "
              f"period {year.label}:")
        raw = measure(scoped, args.counties, raw_runs, year, seed=1, rollup=False)
        print(f"period {five.label} (five years):")
        raw.update({f"{k} (5 years)": v for k, v in
                    measure(scoped, args.counties, raw_runs, five, seed=2, rollup=False).items()})
        print("\np95 ratio raw rows / rollup (same run):")
        for name, value in fast.items():
            print(f"  {name:55s} {raw[name]:8.1f} ms / {value:7.1f} ms = {raw[name] / value:5.1f}×")
        if not args.no_pages:
            print()
            shown = pages(scoped, args.counties, args.runs, [year, five], seed=3)
            worst = max(shown.values())
            print(f"worst p95 of a rendered page: {worst:.1f} ms (target < 200 ms): "
                  f"{'met' if worst < 200 else 'NOT met'}")
        if args.index_compare:
            index_compare(scoped, args.counties, args.runs, year, fast)
    finally:
        if not args.keep:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        else:
            print(f"kept schema {schema}")
        admin.dispose()


if __name__ == "__main__":
    main()
