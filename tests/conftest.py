"""Shared fixtures: settings in a temp home, SQLite and PostgreSQL, generated media."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from mam import migrate
from mam.config import Settings
from mam.runtime import Runtime, build_runtime
from storage.testing import AWS_ENV_TO_CLEAR, DUMMY_AWS_ENV, moto_server
from tests import media

# CI sets this: a missing PostgreSQL, Redis, ffmpeg or Chromium fails the run instead of
# skipping tests quietly.
REQUIRE_SERVICES = os.environ.get("MAM_REQUIRE_SERVICES") == "1"
PG_URL = os.environ.get(
    "MAM_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def per_test_process(redis_url: str) -> str:
    """Give each pytest-xdist worker Redis databases of its own: worker gwN uses the
    database number + 2N (mod 16), so gw0..gw3 never share one (13/10, 15/12, 1/14, 3/0)."""
    index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    base, _, db = redis_url.rpartition("/")
    return f"{base}/{(int(db or 0) + 2 * index) % 16}"


REDIS_URL = per_test_process(os.environ.get("MAM_TEST_REDIS_URL", "redis://127.0.0.1:6379/13"))
# The worker tests' broker: a database of its own, flushed before each test.
WORKER_REDIS_URL = per_test_process(
    os.environ.get("MAM_TEST_WORKER_REDIS_URL", "redis://127.0.0.1:6379/10")
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup`` each test file runs on one worker (its module fixtures are
    built once), and the production-parity tests share one worker (one wheel build)."""
    for item in items:
        path = Path(str(item.fspath)).resolve()
        group = "prod" if path.parent.name == "prod" else path.name
        item.add_marker(pytest.mark.xdist_group(group))


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI."""
    if REQUIRE_SERVICES:
        pytest.fail(reason)
    pytest.skip(reason)


def clear_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the developer's own MAM_* variables (for fixtures wider than one test)."""
    for name in list(os.environ):
        if (
            name.startswith("MAM_")
            and name not in ("MAM_REQUIRE_SERVICES",)
            and not name.startswith("MAM_TEST_")
        ):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own MAM_* variables out of the tests."""
    clear_ambient_settings(monkeypatch)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with minimal cost: same code path, a fraction of the time."""
    from argon2 import PasswordHasher

    from mam.services import users

    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def make_settings(home: Path, **overrides: object) -> Settings:
    """Return resolved settings whose files all live under ``home``."""
    return Settings(home=home, **overrides).resolved()  # type: ignore[arg-type]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a schema of its own for this test session."""
    schema = f"mam_test_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(PG_URL)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except sa.exc.OperationalError as exc:
        engine.dispose()
        unavailable(f"PostgreSQL not reachable at {PG_URL}: {exc.orig}")
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    yield url
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    engine.dispose()


def _truncate(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tables = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
        if tables:
            conn.exec_driver_sql(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
            )
    engine.dispose()


@pytest.fixture
def pg_url(pg_schema_url: str) -> Iterator[str]:
    """A migrated, empty PostgreSQL database (emptied again after the test)."""
    _truncate(pg_schema_url)
    yield pg_schema_url
    _truncate(pg_schema_url)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, home: Path) -> str:
    """A migrated, empty database: the test runs once on SQLite and once on PostgreSQL."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    shutil.copyfile(request.getfixturevalue("migrated_sqlite"), home / "mam.db")
    return f"sqlite:///{home / 'mam.db'}"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once per session; tests start from a copy of it."""
    path = tmp_path_factory.mktemp("template") / "mam.db"
    migrate.upgrade(f"sqlite:///{path}")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
    engine.dispose()
    return path


@pytest.fixture
def settings(home: Path, migrated_sqlite: Path) -> Settings:
    """Embedded-default settings under a temp home (SQLite, local storage, file broker)."""
    shutil.copyfile(migrated_sqlite, home / "mam.db")
    return make_settings(home)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    """A migrated runtime on the embedded default."""
    rt = build_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def session(runtime: Runtime) -> Iterator[Session]:
    with runtime.db.session() as s:
        yield s


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """Run moto's standalone S3 server over HTTP for the session, with dummy credentials."""
    with pytest.MonkeyPatch.context() as mp:
        for name in AWS_ENV_TO_CLEAR:
            mp.delenv(name, raising=False)
        for name, value in DUMMY_AWS_ENV.items():
            mp.setenv(name, value)
        with moto_server() as url:
            yield url


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("ffmpeg") is None:
        unavailable("ffmpeg is not installed")
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def clip(media_dir: Path) -> Path:
    """A 2 s 320x240 H.264/AAC MP4."""
    return media.make_clip(media_dir / "clip.mp4", seconds=2)


def unique_copy(src: Path, dest: Path) -> Path:
    """Remux ``src`` with a random tag so the copy has a SHA-256 of its own."""
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(src),
            "-c",
            "copy",
            "-map",
            "0",
            "-metadata",
            f"comment={uuid.uuid4().hex}",
            str(dest),
        ],
        check=True,
        timeout=60,
    )
    return dest


@pytest.fixture
def fresh_clip(clip: Path, tmp_path: Path) -> Path:
    """A 2 s clip with unique content, its name in Chinese with spaces."""
    return unique_copy(clip, tmp_path / "乡村 振兴 第1集.mp4")


def cut_midstream(src: Path, dest: Path) -> Path:
    """Write a faststart copy of ``src`` cut in half: it probes, but its data is missing."""
    whole = dest.with_name(dest.stem + ".whole.mp4")
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(src),
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            "-metadata",
            f"comment={uuid.uuid4().hex}",
            str(whole),
        ],
        check=True,
        timeout=60,
    )
    data = whole.read_bytes()
    dest.write_bytes(data[: len(data) // 2])
    whole.unlink()
    return dest
