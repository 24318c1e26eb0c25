"""Processing bookkeeping: job rows, progress, publishing outputs, the version's state."""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mam.errors import NotAllowed, NotFound
from mam.models import Job, JobKind, JobState, Rendition, User, Version, VersionState, utcnow
from mam.probe import MediaInfo
from mam.workflow import Event, transition
from storage import Storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessingPlan:
    """What a worker needs to process one version."""

    job_id: int
    version_id: int
    attempt: int
    source_key: str
    source_name: str
    media_info: MediaInfo


@dataclass(frozen=True)
class OutputFile:
    """A finished local output to publish as a rendition."""

    profile: str
    path: Path
    key: str  # final storage key
    media_info: MediaInfo | None = None


def rendition_key(version_id: int, profile: str, filename: str) -> str:
    """Return the deterministic storage key of a rendition file."""
    if profile == "poster":
        return f"thumbs/{version_id}/{filename}"
    return f"renditions/{version_id}/{profile}/{filename}"


class ProcessingService:
    """The database side of a processing job; every method commits its own work."""

    def __init__(self, session: Session, storage: Storage, *, max_attempts: int = 3) -> None:
        self.session = session
        self.storage = storage
        self.max_attempts = max_attempts

    def job_for(self, version_id: int) -> Job:
        """Return the newest processing job of a version, creating one if it has none."""
        job = self.session.scalar(
            select(Job)
            .where(Job.version_id == version_id, Job.kind == JobKind.PROCESS)
            .order_by(Job.id.desc())
            .limit(1)
        )
        if job is None:
            if self.session.get(Version, version_id) is None:
                raise NotFound(f"version {version_id} does not exist")
            job = Job(version_id=version_id, kind=JobKind.PROCESS)
            self.session.add(job)
            self.session.commit()
        return job

    def begin(
        self, version_id: int, worker: str, job_id: int | None = None
    ) -> ProcessingPlan | None:
        """Mark the job running and the version processing; None if there is nothing to do."""
        job = self.session.get(Job, job_id) if job_id else self.job_for(version_id)
        version = self.session.get(Version, version_id)
        if version is None or job is None or job.version_id != version_id:
            raise NotFound(f"version {version_id} / job {job_id} not found")
        if job.state in (JobState.SUCCEEDED, JobState.FAILED):
            log.info("job %s already %s; nothing to do", job.id, job.state)
            return None
        if version.state not in (VersionState.UPLOADED, VersionState.PROCESSING):
            log.info("version %s is %s; not processing it again", version.id, version.state)
            job.state = JobState.SUCCEEDED if version.state != VersionState.FAILED else job.state
            self.session.commit()
            return None
        transition(
            self.session,
            version,
            Event.START_PROCESSING,
            None,
            details={"job_id": job.id, "attempt": job.attempts + 1, "worker": worker},
        )
        now = utcnow()
        job.state = JobState.RUNNING
        job.attempts += 1
        job.worker = worker
        job.started_at = now
        job.heartbeat_at = now
        job.finished_at = None
        job.progress = 0.0
        job.eta_seconds = None
        self.session.commit()
        return ProcessingPlan(
            job_id=job.id,
            version_id=version.id,
            attempt=job.attempts,
            source_key=version.asset.storage_key,
            source_name=version.asset.original_filename,
            media_info=MediaInfo.from_dict(version.asset.media_info),
        )

    def record_progress(self, job_id: int, percent: float, eta_seconds: float | None) -> None:
        """Store progress on the job row (a short transaction of its own)."""
        self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.RUNNING)
            .values(
                progress=round(min(max(percent, 0.0), 100.0), 2),
                eta_seconds=eta_seconds,
                heartbeat_at=utcnow(),
            )
        )
        self.session.commit()

    def publish(self, plan: ProcessingPlan, outputs: Sequence[OutputFile]) -> None:
        """Upload outputs under temporary keys, publish them, record renditions, mark ready."""
        staging = f"tmp/jobs/{plan.job_id}-{plan.attempt}"
        staged: list[tuple[OutputFile, str, int]] = []
        try:
            for out in outputs:
                tmp_key = f"{staging}/{out.profile}/{out.path.name}"
                size = self.storage.put_file(tmp_key, out.path, content_type=_mime(out.path))
                staged.append((out, tmp_key, size))
            for out, tmp_key, _size in staged:
                self.storage.move(tmp_key, out.key)
        finally:
            self.storage.delete_prefix(staging + "/")
        version = self.session.get_one(Version, plan.version_id)
        by_profile = {r.profile: r for r in version.renditions}
        for out, _tmp, size in staged:
            info = out.media_info
            video = info.primary_video if info else None
            rendition = by_profile.get(out.profile) or Rendition(profile=out.profile)
            rendition.storage_key = out.key
            rendition.mime_type = _mime(out.path)
            rendition.size = size
            rendition.width = video.display_width if video else None
            rendition.height = video.display_height if video else None
            rendition.duration = info.duration if info and info.duration else None
            rendition.bit_rate = info.bit_rate if info else None
            rendition.media_info = info.to_dict() if info else {}
            rendition.created_at = utcnow()
            if rendition.id is None:
                version.renditions.append(rendition)
        transition(
            self.session,
            version,
            Event.PROCESSING_SUCCEEDED,
            None,
            details={"job_id": plan.job_id, "outputs": [o.profile for o in outputs]},
        )
        job = self.session.get_one(Job, plan.job_id)
        job.state = JobState.SUCCEEDED
        job.progress = 100.0
        job.eta_seconds = 0.0
        job.finished_at = utcnow()
        job.last_error = None
        self.session.commit()

    def fail(self, plan: ProcessingPlan, reason: str, *, permanent: bool) -> bool:
        """Record a failed attempt; return True if the job should be retried."""
        self.session.rollback()
        job = self.session.get_one(Job, plan.job_id)
        version = self.session.get_one(Version, plan.version_id)
        job.last_error = reason
        job.heartbeat_at = utcnow()
        retry = not permanent and job.attempts < self.max_attempts
        if retry:
            job.state = JobState.QUEUED
        else:
            job.state = JobState.FAILED
            job.finished_at = utcnow()
            if version.state == VersionState.PROCESSING:
                transition(
                    self.session,
                    version,
                    Event.PROCESSING_FAILED,
                    None,
                    reason=reason,
                    details={"job_id": job.id, "attempts": job.attempts},
                )
        self.session.commit()
        return retry

    def retry(self, job_id: int, actor: User) -> Job:
        """Queue a failed job again (admin action); the caller enqueues it after this."""
        job = self.session.get(Job, job_id)
        if job is None or job.version is None:
            raise NotFound(f"job {job_id} does not exist")
        if job.state != JobState.FAILED:
            raise NotAllowed(f"job {job_id} is {job.state.value}; only failed jobs can be retried")
        transition(
            self.session, job.version, Event.RETRY_PROCESSING, actor, details={"job_id": job.id}
        )
        job.state = JobState.QUEUED
        job.attempts = 0
        job.progress = 0.0
        job.finished_at = None
        self.session.commit()
        return job

    def stale_jobs(self, older_than: timedelta) -> list[Job]:
        """Return queued or running jobs whose last sign of life is older than ``older_than``."""
        cutoff = utcnow() - older_than
        jobs = self.session.scalars(
            select(Job).where(Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
        ).all()
        return [j for j in jobs if (j.heartbeat_at or j.created_at) < cutoff]


def _mime(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"
