"""What the beat reconciler takes over: expired leases and queued work whose message the
broker lost (the Job and ReleasePackage tables are the truth, docs/architecture.md)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam import outbox
from mam.leases import expired
from mam.machines import JOB, PACKAGE, JobEvent, PackageEvent
from mam.models import Job, JobState, utcnow
from mam.models.outbox import OutboxMessage, OutboxTask
from mam.models.release import PackageState, ReleasePackage


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
                if j.state == JobState.RUNNING
                else j.id not in unsent and (j.heartbeat_at or j.created_at) < cutoff
            )
        ]

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
