"""Leases and fencing for running jobs and package builds (docs/architecture.md).

A worker that starts a run claims it: the row's ``attempts`` goes up by one (the run's
*attempt number*), ``worker`` names it and ``lease_expires_at`` is set ``ttl`` ahead. While
the run lives the lease is renewed by every stage (progress, each published file, each
fetched package file) and by a keep-alive thread for the stages that are one long call
(QC probing, bag validation, zipping). The reconciler takes over only an expired lease, by
re-queueing the row; the next claim raises the attempt number, so a stale worker that wakes
up finds its attempt number gone: its renewals, its publish and its finish all check the
number (fencing) and it stops with :class:`mam.errors.Superseded`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from mam.errors import Superseded
from mam.i18n import N_
from mam.models import Job, JobState, utcnow
from mam.models.release import PackageState, ReleasePackage

log = logging.getLogger(__name__)

RUNNING: dict[type[Any], Any] = {Job: JobState.RUNNING, ReleasePackage: PackageState.BUILDING}
SUPERSEDED = N_("attempt %(attempt)s of this work was taken over by a newer attempt")


class Lease:
    """The lease of one run (``model`` row ``row_id``, attempt ``attempt``)."""

    def __init__(
        self,
        bind: Engine,
        model: type[Job] | type[ReleasePackage],
        row_id: int,
        attempt: int,
        ttl: timedelta,
    ) -> None:
        self.bind = bind
        self.model = model
        self.row_id = row_id
        self.attempt = attempt
        self.ttl = ttl
        self.lost = False
        self.released = False
        self._renewed = time.monotonic()
        self._lock = threading.Lock()

    @property
    def interval(self) -> float:
        """Return the seconds between renewals (a third of the lease)."""
        return self.ttl.total_seconds() / 3

    def renew(self, *, force: bool = False, **values: Any) -> None:
        """Extend the lease (and write ``values`` on the row) if this attempt still owns it.

        Without ``force`` or ``values`` a renewal within a tenth of the lease of the last
        one is skipped (stages may call this per file). Raise ``Superseded`` if a newer
        attempt owns the row.
        """
        if self.lost:
            raise self._superseded()
        if self.released:
            return
        due = time.monotonic() - self._renewed >= self.ttl.total_seconds() / 10
        if not (force or values or due):
            return
        model = self.model
        now = utcnow()
        with self._lock, Session(bind=self.bind) as s, s.begin():
            result = s.execute(
                update(model)
                .where(
                    model.id == self.row_id,
                    model.attempts == self.attempt,
                    model.state == RUNNING[model],
                )
                .values(lease_expires_at=now + self.ttl, heartbeat_at=now, **values)
            )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            self.lost = True
            raise self._superseded()
        self._renewed = time.monotonic()

    def release(self) -> None:
        """Stop renewing: the run passed its fence and finishes in the caller's transaction
        (which, on SQLite, holds the write lock a renewal would wait for)."""
        self.released = True

    def check(self) -> None:
        """Renew now: raise ``Superseded`` unless this attempt still owns the row (fencing)."""
        self.renew(force=True)

    @contextmanager
    def kept_alive(self) -> Iterator[Lease]:
        """Renew the lease from a background thread while the block runs."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.interval):
                try:
                    self.renew(force=True)
                except Superseded:
                    log.warning("%s %s attempt %s lost its lease", self.model.__name__,
                                self.row_id, self.attempt)
                    return
                except Exception:  # the database hiccupped; the next beat tries again
                    log.exception("could not renew the lease of %s %s", self.model.__name__,
                                  self.row_id)

        thread = threading.Thread(target=beat, name=f"lease-{self.row_id}", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join(timeout=10)

    def _superseded(self) -> Superseded:
        return Superseded(SUPERSEDED, params={"attempt": self.attempt})


def claim_values(worker: str, ttl: timedelta) -> dict[str, Any]:
    """Return the column values of a fresh claim (the caller raises ``attempts`` by one)."""
    now = utcnow()
    return {"worker": worker, "heartbeat_at": now, "lease_expires_at": now + ttl}


def expired(lease_expires_at: Any, heartbeat_at: Any, created: Any, grace: timedelta) -> bool:
    """Say whether a running row's lease has run out (rows from before leases: heartbeat)."""
    now = utcnow()
    if lease_expires_at is not None:
        return bool(lease_expires_at < now)
    since = heartbeat_at or created
    return since is None or bool(since < now - grace)
