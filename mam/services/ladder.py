"""The distribution ladder as a job of its own, after a proxy-first run (MAM_PROXY_FIRST).

What is ready is said by two state machines and nothing else: the version's state says it
is *reviewable* (``ready`` and on: the proxy, poster, thumbnails, sprite and QC report are
published), its newest ``ladder`` job's state (``mam.machines.JOB``) says it is
*distributable* (``succeeded``; a version without a ladder job was processed in one run
that made everything).  Release refuses a version that is not distributable.

With ``MAM_LADDER_AFTER_APPROVAL`` the ladder job is created ``waiting`` and released to
the workers by the approval (``release_held``); a cut sent back costs no ladder.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam import outbox
from mam.audit import state_label
from mam.errors import NotAllowed
from mam.machines import JOB, JobEvent
from mam.messages import release as release_messages
from mam.models import Job, JobKind, JobState, Version, VersionState
from mam.services.processing import ProcessingPlan, ProcessingResult, ProcessingService


class Ladder(enum.StrEnum):
    COMPLETE = "complete"  # distributable
    PENDING = "pending"  # waiting for approval, queued or running
    FAILED = "failed"


def newest_ladder(session: Session, version_id: int) -> Job | None:
    return session.scalar(
        select(Job)
        .where(Job.version_id == version_id, Job.kind == JobKind.LADDER)
        .order_by(Job.id.desc())
        .limit(1)
    )


def ladder_status(session: Session, version: Version) -> Ladder:
    """Return whether ``version``'s distribution renditions are all there."""
    job = newest_ladder(session, version.id)
    if job is None or job.state is JobState.SUCCEEDED:
        return Ladder.COMPLETE
    return Ladder.FAILED if job.state is JobState.FAILED else Ladder.PENDING


def require_distributable(session: Session, version: Version) -> None:
    """Refuse (translated) a version whose ladder is not complete."""
    job = newest_ladder(session, version.id)
    if job is not None and job.state is not JobState.SUCCEEDED:
        raise NotAllowed(
            release_messages.LADDER_PENDING,
            params={
                "title": version.episode.title,
                "number": version.number,
                "state": {"template": state_label("job", job.state.value), "params": {}},
            },
            rule="ladder",
        )


def queue_ladder(session: Session, version: Version, *, hold: bool) -> Job:
    """Add the ladder job of ``version``: queued (sent after the commit) or held."""
    job = Job(version_id=version.id, kind=JobKind.LADDER)
    session.add(job)
    session.flush()
    if hold:
        JOB.fire(session, job, JobEvent.HOLD, None, details={"version_id": version.id})
    else:
        outbox.enqueue_processing(session, job)
    return job


def release_held(session: Session, version: Version) -> list[Job]:
    """Send the held ladder of an approved version to the workers (after the commit)."""
    held = session.scalars(
        select(Job).where(
            Job.version_id == version.id,
            Job.kind == JobKind.LADDER,
            Job.state == JobState.WAITING,
        )
    ).all()
    for job in held:
        JOB.fire(session, job, JobEvent.RELEASE, None, details={"version_id": version.id})
        outbox.enqueue_processing(session, job)
    return list(held)


class LadderService(ProcessingService):
    """A ladder run: like a processing run, but the version stays as it is (reviewable,
    in review or approved), and only the ladder's own renditions are replaced."""

    # A cut sent back or superseded needs no ladder: the run is skipped.
    runs_in = (VersionState.READY, VersionState.IN_REVIEW, VersionState.APPROVED)

    def _start_version(self, version: Version, job: Job, worker: str) -> None:
        return None

    def _replaced_prefixes(self, version_id: int, result: ProcessingResult) -> Sequence[str]:
        return [f"renditions/{version_id}/{r.profile}/" for r in result.renditions]

    def _replaces(self, profile: str) -> bool:
        return False

    def _finish_version(
        self, version: Version, plan: ProcessingPlan, result: ProcessingResult
    ) -> None:
        return None
