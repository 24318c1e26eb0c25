"""Download completion from the bytes really sent, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from mam import migrate
from mam.db import Database
from mam.models import County, Role, User
from mam.models.release import (
    Download,
    PackageKind,
    PackageState,
    ReleasePackage,
    ReleaseSet,
    ReleaseState,
)
from mam.services.downloads import DownloadLog, covered_bytes, covers, merge_spans
from tests import factories


def test_merge_spans() -> None:
    assert merge_spans([(50, 100), (0, 10), (10, 20), (95, 120), (200, 200)]) == [
        (0, 20),
        (50, 120),
    ]
    assert covered_bytes([(0, 10), (5, 15)]) == 15
    assert covers([(0, 60), (60, 100)], 100)
    assert not covers([(0, 60), (61, 100)], 100)
    assert not covers([(99, 100)], 100)  # bytes=-1
    assert not covers([], 100) and not covers([(0, 1)], 0)


def _package(db: Database, size: int) -> tuple[int, int, int]:
    with db.session() as s:
        county = County(code="a", name="甲县")
        s.add(county)
        s.flush()
        user = factories.user(s, Role.COUNTY)
        user.county_id = county.id
        release = ReleaseSet(name="2026年第12期", state=ReleaseState.PUBLISHED, all_counties=True)
        release.packages.append(
            ReleasePackage(
                kind=PackageKind.TV, state=PackageState.READY, size=size, storage_key="p/tv.zip"
            )
        )
        s.add(release)
        s.commit()
        return release.packages[0].id, user.id, county.id


def test_completion_needs_every_byte(database_url: str) -> None:
    db = Database(database_url)
    try:
        package_id, user_id, county_id = _package(db, 1000)
        with db.session() as s:
            log = DownloadLog(s)
            package, user = s.get_one(ReleasePackage, package_id), s.get_one(User, user_id)
            assert not log.record(package, user, start=999, sent=1).completed  # bytes=-1
            assert not log.record(package, user, start=0, sent=400).completed  # cut off
            assert not log.record(package, user, start=500, sent=400).completed  # gap 900-998
            assert log.record(package, user, start=400, sent=600).completed
            assert not log.record(package, user, start=0, sent=1000).completed  # had it already
            assert log.spans(package_id, county_id) == [(0, 1000)]
    finally:
        db.engine.dispose()


@pytest.mark.postgres
def test_two_halves_at_once_complete_exactly_once(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        package_id, user_id, _county = _package(db, 1000)
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def half(start: int) -> None:
            try:
                with db.session() as s:
                    package = s.get_one(ReleasePackage, package_id)
                    user = s.get_one(User, user_id)
                    barrier.wait(timeout=10)
                    DownloadLog(s).record(package, user, start=start, sent=500)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=half, args=(n,)) for n in (0, 500)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert errors == []
        with db.session() as s:
            flags = s.scalars(select(Download.completed)).all()
        assert sorted(flags) == [False, True]
    finally:
        db.engine.dispose()


def test_upgrade_recomputes_old_download_figures(home) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{home / 'old.db'}"
    migrate.upgrade(url, "0008_search_facets")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO county (id, code, name, villages, playback_points) "
            "VALUES (1, 'a', '甲县', 0, 0), (2, 'b', '乙县', 0, 0)"
        )
        conn.exec_driver_sql(
            "INSERT INTO release_set (id, name, notes, state, all_counties, created_at, "
            "lock_version) VALUES (1, 's', '', 'published', 1, '2026-11-01', 1)"
        )
        conn.exec_driver_sql(
            "INSERT INTO release_package (id, release_id, kind, state, progress, size) "
            "VALUES (1, 1, 'tv', 'ready', 1.0, 100)"
        )
        rows = [
            (1, 1, 99, 1, 1),  # bytes=-1 logged as complete before
            (2, 1, 0, 60, 0),
            (3, 1, 60, 40, 1),  # closes the gap: this one completes county a's copy
            (4, 2, 0, 0, 0),  # an S3 redirect: nothing was seen
        ]
        conn.execute(
            sa.text(
                "INSERT INTO download (id, package_id, county_id, range_start, bytes_sent, "
                "completed, started_at) VALUES (:id, 1, :county, :start, :sent, :done, "
                "'2026-11-02')"
            ),
            [{"id": i, "county": c, "start": st, "sent": n, "done": d} for i, c, st, n, d in rows],
        )
    migrate.upgrade(url)
    with engine.connect() as conn:
        flags = conn.exec_driver_sql("SELECT id, completed FROM download ORDER BY id").all()
    engine.dispose()
    assert [(i, bool(c)) for i, c in flags] == [(1, False), (2, False), (3, True), (4, False)]
