from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from mam import migrate
from mam.db import make_engine
from mam.models import Base

HEAD = "0020_learning"


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
