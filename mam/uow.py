"""One unit of work per web request, Celery task and CLI command (docs/architecture.md).

The entry point opens the unit of work (``Database.session()``, or the web app's request
session), services only add, change and flush rows, and the entry point commits once at the
end or rolls back on error. Work that must follow the commit (enqueueing, e-mail, removing
files) is registered with :func:`after_commit`; it runs only after a successful commit and is
dropped by a rollback.

Two documented exceptions give a service a durable point inside a longer unit of work:

- :func:`short_transaction` — a separate session, committed at once, for rows that must be
  visible while the unit of work is still running: a job's progress and lease renewal while
  ffmpeg runs, a lease claim, an outbox message marked sent;
- :func:`checkpoint` — commit the unit of work so far, for the few places that must not hold
  a transaction (on SQLite: the database's write lock) across a long transfer, or whose
  record must survive the error they are about to raise (an upload's received offset, a
  failed upload). Each call names its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

TX_KEY = "mam.transaction"  # per-transaction state in Session.info, cleared at its end
QUEUE_KEY = "mam.queue"  # the TaskQueue the outbox is drained into after a commit
REPORTS_KEY = "mam.queue_reports"  # DrainResults of this unit of work (mam.outbox)

Hook = Callable[[], Any]


def transaction_state(session: Session) -> dict[str, Any]:
    """Return the state of the session's current transaction (dropped at commit/rollback)."""
    state: dict[str, Any] = session.info.setdefault(TX_KEY, {})
    return state


def after_commit(session: Session, hook: Hook) -> None:
    """Run ``hook`` once the session's current transaction has committed; never on rollback.

    The hook runs with no transaction open on ``session``: if it needs the database it opens
    its own (see :func:`short_transaction`). An exception in a hook is logged, not raised:
    the commit has happened and cannot be undone by it. Inside a savepoint the hook belongs
    to the savepoint: releasing it hands the hook to the enclosing transaction, rolling it
    back drops the hook; it runs only after the outermost commit.
    """
    owner = session.get_nested_transaction() or session.get_transaction()
    transaction_state(session).setdefault("after_commit", []).append((owner, hook))


def _hooks(session: Session) -> list[tuple[Any, Hook]]:
    return transaction_state(session).setdefault("after_commit", [])


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    savepoint = session.get_nested_transaction()
    if savepoint is not None:  # a savepoint released: its hooks now wait for its parent
        parent = savepoint.parent
        hooks = _hooks(session)
        hooks[:] = [(parent if owner is savepoint else owner, hook) for owner, hook in hooks]
        return
    state = session.info.pop(TX_KEY, {})
    for _owner, hook in state.get("after_commit", []):
        try:
            hook()
        except Exception:  # the commit stands; the failed follow-up is logged
            log.exception("after-commit work %r failed", hook)


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    savepoint = session.get_nested_transaction()
    if savepoint is not None:  # only the hooks of the rolled-back savepoint go
        hooks = _hooks(session)
        hooks[:] = [(owner, hook) for owner, hook in hooks if owner is not savepoint]
        return
    dropped = session.info.pop(TX_KEY, {}).get("after_commit", [])
    if dropped:
        log.debug("rollback dropped %d after-commit hooks", len(dropped))


@contextmanager
def unit_of_work(factory: sessionmaker[Session], queue: Any = None) -> Iterator[Session]:
    """Yield a session; commit it at the end (after-commit work then runs), roll it back on
    any error, always close it. ``queue`` (a ``mam.queue.TaskQueue``) receives the outbox."""
    session = factory()
    if queue is not None:
        session.info[QUEUE_KEY] = queue
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def short_transaction(session: Session) -> Iterator[Session]:
    """Yield a separate session on the same database, committed as soon as the block ends.

    For durable points inside a running unit of work (progress, leases, outbox bookkeeping):
    what it writes is visible to others at once and is kept even if the enclosing unit of
    work rolls back.
    """
    with Session(bind=session.get_bind(), expire_on_commit=False) as own, own.begin():
        yield own


def checkpoint(session: Session, reason: str) -> None:
    """Commit the unit of work so far (``reason`` says why it cannot wait for the end).

    After-commit work registered so far runs now. Use only where the architecture page
    allows it: before a long transfer (no lock held across it) and for a record that must
    survive the error about to be raised.
    """
    log.debug("checkpoint: %s", reason)
    session.commit()
