"""Domain-test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from mam.db import Database


@pytest.fixture
def db_session(database_url: str) -> Iterator[Session]:
    """A session on a migrated, empty database (SQLite, then PostgreSQL)."""
    db = Database(database_url)
    with db.session() as s:
        yield s
    db.dispose()


@pytest.fixture
def db(db_session: Session) -> Session:
    """The same session under the short name the network tests use."""
    return db_session
