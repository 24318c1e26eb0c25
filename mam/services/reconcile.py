"""What the beat reconciler takes over: expired leases and queued work whose message the
broker lost (the Job and ReleasePackage tables are the truth, docs/architecture.md).

A chunked ladder run (mam/pieces.py) is not taken over while its pieces are pending: the
reconciler holds the job's lease (the pieces may wait in the queue behind other work) and,
once no piece has shown a sign of life for ``grace`` (doubling with every re-send), sends
its chord again: made pieces are not made again, a lost one (its message or its worker) is
run alone. After ``MAX_RESENDS`` re-sends the run is taken over like any other.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from mam import outbox
from mam.leases import expired
from mam.machines import JOB, PACKAGE, JobEvent, PackageEvent
from mam.models import Job, JobState, utcnow
from mam.models.outbox import OutboxMessage, OutboxTask
from mam.models.processing import LadderPiece
from mam.models.release import PackageState, ReleasePackage

MAX_RESENDS = 5


class Reconciler:
    """Find stale jobs and package builds and queue them again (sent after the commit).

    A running row is taken over only once its lease has expired; a queued row once it has
    shown no sign of life for ``grace`` and has no unsent outbox message (that one is the
    outbox's to deliver). Queuing again does not touch the attempt number: the next claim
    raises it, which fences off a worker that still believes it holds the lease.
    """

    def __init__(self, session: Session, grace: timedelta) -> None:
        self.session = session
        self.grace = grace

    def _unsent(self, task: OutboxTask, key: str) -> set[int]:
        rows = self.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.sent_at.is_(None), OutboxMessage.task == task
            )
        )
        return {int(m.payload[key]) for m in rows}

    def stale_jobs(self) -> list[Job]:
        """Return the processing jobs to take over."""
        cutoff = utcnow() - self.grace
        unsent = self._unsent(OutboxTask.PROCESS, "job_id")
        jobs = self.session.scalars(
            select(Job).where(Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
        ).all()
        return [
            j
            for j in jobs
            if j.version_id is not None
            and (
                expired(j.lease_expires_at, j.heartbeat_at, j.created_at, self.grace)
                and not self._held(j)
                if j.state == JobState.RUNNING
                else j.id not in unsent and (j.heartbeat_at or j.created_at) < cutoff
            )
        ]

    def _chunked(self, job: Job) -> tuple[list[LadderPiece], OutboxMessage | None] | None:
        """Return the pending pieces of ``job``'s running attempt and its newest chord
        message; None if the attempt has no pieces pending (not chunked, or all made)."""
        pieces = list(
            self.session.scalars(
                select(LadderPiece).where(
                    LadderPiece.job_id == job.id, LadderPiece.attempt == job.attempts
                )
            )
        )
        if not pieces or all(p.done_at is not None for p in pieces):
            return None
        chord = self.session.scalar(
            select(OutboxMessage)
            .where(
                OutboxMessage.task == OutboxTask.CHORD,
                OutboxMessage.payload["job_id"].as_integer() == job.id,
                OutboxMessage.payload["attempt"].as_integer() == job.attempts,
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        return pieces, chord

    def _held(self, job: Job) -> bool:
        found = self._chunked(job)
        return found is not None and _resends(found[1]) < MAX_RESENDS

    def keep_chunked_runs(self) -> list[tuple[Job, str]]:
        """Hold the lease of every chunked run with pending pieces; re-send the chord of
        one whose pieces have been quiet for ``grace`` (times 2 per re-send so far).

        Return each such job with what was done: ``held`` or ``resent`` (sent after the
        commit, through the outbox)."""
        now = utcnow()
        done: list[tuple[Job, str]] = []
        running = self.session.scalars(select(Job).where(Job.state == JobState.RUNNING)).all()
        for job in running:
            found = self._chunked(job)
            if found is None or _resends(found[1]) >= MAX_RESENDS:
                continue
            pieces, chord = found
            self.session.execute(  # not through the ORM: the job's workers own its row
                update(Job)
                .where(Job.id == job.id, Job.attempts == job.attempts,
                       Job.state == JobState.RUNNING,
                       or_(Job.lease_expires_at.is_(None),
                           Job.lease_expires_at < now + self.grace))
                .values(lease_expires_at=now + self.grace)
            )  # fmt: skip
            live = any(
                p.done_at is None and p.runs and p.lease_expires_at and p.lease_expires_at >= now
                for p in pieces
            )
            if live or chord is None or chord.sent_at is None:
                done.append((job, "held"))  # running, or the outbox has it still
                continue
            signs = [chord.sent_at] + [p.lease_expires_at for p in pieces if p.lease_expires_at]
            patience = self.grace * 2 ** _resends(chord)
            if max(signs) > now - patience:
                done.append((job, "held"))
                continue
            outbox.enqueue_chord(self.session, {**chord.payload, "resends": _resends(chord) + 1})
            done.append((job, "resent"))
        return done

    def stale_packages(self) -> list[ReleasePackage]:
        """Return the package builds to take over (queued ones from before leases too)."""
        cutoff = utcnow() - self.grace
        unsent = self._unsent(OutboxTask.PACKAGE, "package_id")
        packages = self.session.scalars(
            select(ReleasePackage).where(
                ReleasePackage.state.in_([PackageState.QUEUED, PackageState.BUILDING])
            )
        ).all()
        return [
            p
            for p in packages
            if (
                expired(p.lease_expires_at, p.heartbeat_at, None, self.grace)
                if p.state == PackageState.BUILDING
                else p.id not in unsent and (p.heartbeat_at is None or p.heartbeat_at < cutoff)
            )
        ]

    def take_over_job(self, job: Job) -> None:
        """Queue a stale job again and enqueue it after the commit."""
        if job.state == JobState.RUNNING:
            JOB.fire(
                self.session, job, JobEvent.REQUEUE, None,
                reason="no sign of life from its worker", details={"worker": job.worker},
            )  # fmt: skip
        job.heartbeat_at = utcnow()
        job.lease_expires_at = None
        outbox.enqueue_processing(self.session, job)

    def take_over_package(self, package: ReleasePackage) -> None:
        """Queue a stale package build again and enqueue it after the commit."""
        if package.state == PackageState.BUILDING:
            PACKAGE.fire(
                self.session, package, PackageEvent.REQUEUE, None,
                details={"worker": package.worker},
            )  # fmt: skip
        package.heartbeat_at = utcnow()
        package.lease_expires_at = None
        outbox.enqueue_package(self.session, package.id)


def _resends(chord: OutboxMessage | None) -> int:
    return int(chord.payload.get("resends", 0)) if chord is not None else 0


__all__ = ["MAX_RESENDS", "Reconciler"]
