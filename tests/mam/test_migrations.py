from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from mam import migrate
from mam.db import make_engine
from mam.models import Base

HEAD = "0025_scaleout"


def test_migrations_match_the_models(database_url: str) -> None:
    """A model change without a migration fails here (on SQLite and PostgreSQL)."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent_and_downgrade_works(home) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{home / 'm.db'}"
    migrate.upgrade(url)
    migrate.upgrade(url)
    assert migrate.current(url) == HEAD
    migrate.downgrade(url, "base")
    assert migrate.current(url) is None


def test_one_head() -> None:
    """Parallel branches are merged: `mam db upgrade` has exactly one target."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert script.get_heads() == [HEAD]


def test_county_screenings_survive_the_network_revision(home) -> None:  # type: ignore[no-untyped-def]
    """0019_network extends ``screening``: reports made before it keep counting as held."""
    import sqlalchemy as sa

    url = f"sqlite:///{home / 'n.db'}"
    migrate.upgrade(url, "0015_merge_session3")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO county (id, code, name, villages, playback_points)"
            " VALUES (1, 'a', '甲县', 0, 0)"
        )
        conn.exec_driver_sql(
            "INSERT INTO release_set"
            " (id, name, notes, state, all_counties, created_at, lock_version)"
            " VALUES (1, '2026年第1期', '', 'published', 1, '2026-01-01 00:00:00', 1)"
        )
        conn.exec_driver_sql(
            "INSERT INTO screening"
            " (id, release_id, county_id, screened_on, place, viewers, reported_at)"
            " VALUES (7, 1, 1, '2026-01-05', '城关镇李家村', 85, '2026-01-05 10:00:00')"
        )
    migrate.upgrade(url)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT place, viewers, outcome, note, episode_id, point_id FROM screening WHERE id = 7"
        ).one()
    assert tuple(row) == ("城关镇李家村", 85, "held", "", None, None)
    with engine.begin() as conn:  # a network report that says "not held" cannot go back
        conn.exec_driver_sql(
            "INSERT INTO screening (id, release_id, county_id, screened_on, place, viewers,"
            " reported_at, outcome, note)"
            " VALUES (8, 1, 1, '2026-01-06', '东村', 0, '2026-01-06 10:00:00', 'not_held', '')"
        )
    migrate.downgrade(url, "0015_merge_session3")
    with engine.connect() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM screening ORDER BY id")]
    engine.dispose()
    assert ids == [7]
