"""Engine and session factory; SQLite gets the pragmas a multi-process system needs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from mam.uow import unit_of_work


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; for SQLite make the directory, enable WAL, foreign keys, busy wait."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling breaks SAVEPOINT and BEGIN IMMEDIATE;
            # take control of BEGIN ourselves (SQLAlchemy docs, "Serializable isolation").
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # IMMEDIATE: take the write lock up front so web and worker never hit
            # SQLITE_BUSY on a read-to-write upgrade (busy_timeout cannot retry those).
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        # Where the outbox is drained after a commit (a ``mam.queue.TaskQueue``); set by
        # the entry point that knows the broker (web app, worker, CLI). None: the
        # reconciler sends what is committed.
        self.queue: Any = None

    @property
    def dialect(self) -> str:
        """Return the backend name ("sqlite" or "postgresql")."""
        return self.engine.dialect.name

    @contextmanager
    def session(self, queue: Any = None) -> Iterator[Session]:
        """Open a unit of work: commit at the end, roll back on error (``mam.uow``).

        The outbox is drained into ``queue`` (default: ``self.queue``) after the commit.
        """
        with unit_of_work(self.sessionmaker, queue if queue is not None else self.queue) as s:
            yield s

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
