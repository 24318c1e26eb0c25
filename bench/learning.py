"""Benchmark the study figures (``mam.services.study_reports``) and a heartbeat.

Run from the repository root::

    .venv/bin/python bench/learning.py [--counties 300] [--learners 50] [--months 12] \
        [--database-url postgresql+psycopg://127.0.0.1:5432/test]

It makes a fresh database (an SQLite file under ``bench/.cache``, or a schema of its own
on PostgreSQL, dropped at the end) with ``--counties`` × ``--learners`` learners, 20
episodes, and for every learner one credited day per month over ``--months`` months on
a random episode (``StudyDay``) plus a completed ``StudyRecord`` for half of those; then
it times, ``--runs`` times each, what a dashboard asks: every county for one month, one
county's learners for one month, one county's monthly series; and one heartbeat through
``StudyService`` (with its commit). It prints p50 and p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mam import migrate  # noqa: E402
from mam.db import Database  # noqa: E402
from mam.models import County, Episode, Programme, User, Version  # noqa: E402
from mam.models.core import Asset, Rendition, Role, UserRole  # noqa: E402
from mam.models.learning import Learner, StudyDay, StudyRecord, StudySegment  # noqa: E402
from mam.models.release import ReleaseItem, ReleaseSet, ReleaseState  # noqa: E402
from mam.services.study import HLS_MIME, StudyService  # noqa: E402
from mam.services.study_reports import Month, StudyReports  # noqa: E402

EPISODES = 20


def _insert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, object]]) -> None:
    for start in range(0, len(rows), 5000):
        conn.execute(sa.insert(table), rows[start : start + 5000])


def populate(url: str, counties: int, learners: int, months: int) -> Month:
    """Fill the database; return the last month with data."""
    rnd = random.Random(13)
    today = date.today()
    engine = sa.create_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        _insert(conn, County.__table__, [
            {"id": c, "code": f"c{c}", "name": f"县{c}", "villages": 0, "playback_points": 0}
            for c in range(1, counties + 1)
        ])  # fmt: skip
        conn.execute(sa.insert(Programme.__table__), [{"id": 1, "name": "时代风采",
                                                        "description": "", "created_at": now}])  # fmt: skip
        _insert(conn, Asset.__table__, [
            {"id": e, "sha256": uuid.uuid4().hex * 2, "storage_key": "x", "size": 1,
             "original_filename": "a.mp4", "media_info": {}, "created_at": now}
            for e in range(1, EPISODES + 1)
        ])  # fmt: skip
        _insert(conn, Episode.__table__, [
            {"id": e, "programme_id": 1, "title": f"第{e}集", "synopsis": "", "source_type": "self",
             "created_at": now, "updated_at": now}
            for e in range(1, EPISODES + 1)
        ])  # fmt: skip
        _insert(conn, Version.__table__, [
            {"id": e, "episode_id": e, "number": 1, "asset_id": e, "state": "released",
             "created_at": now, "updated_at": now, "lock_version": 1}
            for e in range(1, EPISODES + 1)
        ])  # fmt: skip
        _insert(conn, Rendition.__table__, [
            {"version_id": e, "profile": "web", "storage_key": "x", "mime_type": HLS_MIME,
             "size": 1, "duration": 1800.0, "media_info": {}, "created_at": now}
            for e in range(1, EPISODES + 1)
        ])  # fmt: skip
        conn.execute(sa.insert(ReleaseSet.__table__), [
            {"id": 1, "name": "2026年第1期", "notes": "", "state": ReleaseState.PUBLISHED.value,
             "all_counties": True, "created_at": now, "published_at": now, "lock_version": 1}
        ])  # fmt: skip
        _insert(conn, ReleaseItem.__table__, [
            {"release_id": 1, "episode_id": e, "version_id": e, "position": e}
            for e in range(1, EPISODES + 1)
        ])  # fmt: skip
        users, roles, profiles, days, records = [], [], [], [], []
        uid = 0
        for c in range(1, counties + 1):
            for n in range(learners):
                uid += 1
                phone = f"1{c:05d}{n:05d}"
                users.append({"id": uid, "username": phone, "display_name": f"学员{uid}",
                              "password_hash": "x", "active": True, "county_id": c,
                              "created_at": now, "must_change_password": False})  # fmt: skip
                roles.append({"user_id": uid, "role": Role.LEARNER.value})
                profiles.append({"user_id": uid, "county_id": c, "phone": phone,
                                 "created_at": now})  # fmt: skip
                done: set[int] = set()
                for m in range(months):
                    day = (today.replace(day=1) - timedelta(days=31 * m)).replace(
                        day=rnd.randint(1, 28)
                    )
                    episode = rnd.randint(1, EPISODES)
                    days.append({"user_id": uid, "episode_id": episode, "county_id": c,
                                 "day": day, "seconds": rnd.uniform(60, 1800)})  # fmt: skip
                    if rnd.random() < 0.5 and episode not in done:
                        done.add(episode)
                        at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
                        records.append({"user_id": uid, "episode_id": episode,
                                        "version_id": episode, "county_id": c,
                                        "duration": 1800.0, "watched_seconds": 1700.0,
                                        "position": 0.0, "completed_at": at, "started_at": at})  # fmt: skip
        _insert(conn, User.__table__, users)
        _insert(conn, UserRole.__table__, roles)
        _insert(conn, Learner.__table__, profiles)
        _insert(conn, StudyDay.__table__, days)
        _insert(conn, StudyRecord.__table__, records)
        print(
            f"rows: learners {len(users)}, study days {len(days)}, completed records {len(records)}"
        )
    engine.dispose()
    return Month.of(today)


def timed(name: str, runs: int, call: Callable[[], object]) -> None:
    call()  # warm up: statement compilation and caches are not what is measured
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    print(f"{name:<44} p50 {statistics.median(samples):8.1f} ms   p95 {p95:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=300)
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    schema = None
    if args.database_url.startswith("postgresql"):
        schema = f"bench_learning_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.database_url)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = f"{args.database_url}?options=-csearch_path%3D{schema}"
    else:
        cache = ROOT / "bench" / ".cache"
        cache.mkdir(parents=True, exist_ok=True)
        path = cache / "learning.db"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    try:
        migrate.upgrade(url)
        month = populate(url, args.counties, args.learners, args.months)
        db = Database(url)
        with db.session() as s:
            reports = StudyReports(s)
            timed("every county, one month", args.runs, lambda: reports.counties(month))
            timed("one county's learners, one month", args.runs,
                  lambda: reports.learners(args.counties // 2, month))  # fmt: skip
            timed("one county, month by month", args.runs,
                  lambda: reports.monthly(args.counties // 2))  # fmt: skip
            learner = s.get_one(User, 1)
            study = StudyService(s)
            for n in range(300):
                s.add(StudySegment(user_id=1, version_id=1, sequence=n, seconds=6.0))
            s.commit()

            def heartbeat() -> None:
                record = study.open(learner, 1)
                record.credit_clock = datetime.now(UTC) - timedelta(seconds=10)
                study.heartbeat(learner, 1, position=10, watched=10)
                s.commit()

            timed("one heartbeat (authorise, credit, commit)", args.runs, heartbeat)
        db.dispose()
    finally:
        if schema is not None:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()


if __name__ == "__main__":
    main()
