"""Processing bookkeeping: job rows, progress, publishing outputs, the version's state."""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from mam import outbox
from mam.errors import MamError, NotFound, ProcessingError, Superseded
from mam.leases import SUPERSEDED, Lease, claim_values
from mam.machines import JOB, JobEvent
from mam.messages import catalogue, processing
from mam.models import Job, JobKind, JobState, User, Version, VersionState, utcnow
from mam.probe import MediaInfo
from mam.services.processing_records import RecordsMixin
from mam.services.processing_types import (
    LocalFile,
    ProcessingPlan,
    ProcessingResult,
    RenditionOutput,
    ThumbnailOutput,
    rendition_key,
    version_prefixes,
)
from mam.services.subtitles import current_subtitles
from mam.uow import checkpoint, short_transaction
from mam.workflow import Event, transition
from storage import Storage

log = logging.getLogger(__name__)
__all__ = [
    "LocalFile",
    "ProcessingPlan",
    "ProcessingResult",
    "ProcessingService",
    "RenditionOutput",
    "ThumbnailOutput",
    "rendition_key",
    "version_prefixes",
]
PUBLISH_THREADS = 8  # an HLS ladder is hundreds of files: upload and move them in parallel


class ProcessingService(RecordsMixin):
    """The database side of a processing job, inside the caller's unit of work.

    Durable points of their own: the claim of a run (``begin``, a checkpoint: the version is
    ``processing`` and the job leased before the long run starts) and lease renewals with
    progress (short transactions, ``mam.leases``).
    """

    # The version states a run of this kind of job starts from (else it is skipped).
    runs_in: tuple[VersionState, ...] = (VersionState.UPLOADED, VersionState.PROCESSING)

    def __init__(
        self,
        session: Session,
        storage: Storage,
        *,
        max_attempts: int = 3,
        lease_ttl: timedelta = timedelta(minutes=5),
        ladder: str | None = None,
    ) -> None:
        """``ladder``: None (one run makes everything), "now" or "after_approval" (a
        proxy-first run: the distribution ladder is a second job, queued now or held)."""
        self.session = session
        self.ladder = ladder
        self.storage = storage
        self.max_attempts = max_attempts
        self.lease_ttl = lease_ttl
        self.lease: Lease | None = None  # the run claimed by ``begin``

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
                raise NotFound(catalogue.VERSION_MISSING, params={"id": version_id})
            job = Job(version_id=version_id, kind=JobKind.PROCESS)
            self.session.add(job)
            self.session.flush()
        return job

    def begin(
        self, version_id: int, worker: str, job_id: int | None = None
    ) -> ProcessingPlan | None:
        """Claim the job (attempt number, lease) and mark the version processing; None if
        there is nothing to do. The claim is committed here (a documented checkpoint): the
        run that follows holds no transaction."""
        job = self.session.get(Job, job_id) if job_id else self.job_for(version_id)
        version = self.session.get(Version, version_id)
        if version is None or job is None or job.version_id != version_id:
            raise NotFound(processing.JOB_MISSING, params={"id": job_id})
        if job.state not in (JobState.QUEUED, JobState.RUNNING):
            log.info("job %s already %s; nothing to do", job.id, job.state)
            return None
        if version.state not in self.runs_in:
            log.info("version %s is %s; not processing it again", version.id, version.state)
            JOB.fire(
                self.session, job, JobEvent.SKIP, None,
                details={"version_id": version.id, "version_state": version.state.value},
            )  # fmt: skip
            job.finished_at = utcnow()
            return None
        if job.attempts >= self.max_attempts:
            # Every attempt so far ended with the worker gone (killed by the hard time
            # limit or out of memory; redelivered, or re-queued by the reconciler): a
            # failure the worker could record would have failed or re-queued it below the
            # limit. Do not feed the same file to a worker again.
            self._give_up(
                job,
                version,
                ProcessingError(
                    processing.WORKER_GONE, params={"attempts": job.attempts}, permanent=True
                ),
            )
            return None
        self._start_version(version, job, worker)
        claim = claim_values(worker, self.lease_ttl)
        JOB.fire(
            self.session, job, JobEvent.START, None,
            details={"version_id": version.id, "attempt": job.attempts + 1, "worker": worker},
        )  # fmt: skip
        job.attempts += 1
        job.worker = claim["worker"]
        job.started_at = job.heartbeat_at = claim["heartbeat_at"]
        job.lease_expires_at = claim["lease_expires_at"]
        job.finished_at = None
        job.progress = 0.0
        job.eta_seconds = None
        plan = ProcessingPlan(
            job_id=job.id,
            version_id=version.id,
            attempt=job.attempts,
            source_key=version.asset.storage_key,
            source_name=version.asset.original_filename,
            media_info=MediaInfo.from_dict(version.asset.media_info),
            subtitle_keys=self._subtitle_keys(version),
            slate_lines=slate_lines(version),
        )
        # Everything the run needs is read: commit, so the session holds no transaction
        # (on SQLite: no write lock) while the run renews its lease from other sessions.
        checkpoint(self.session, "the claim and the version's processing state before the run")
        self.lease = Lease(self._bind(), Job, job.id, job.attempts, self.lease_ttl)
        return plan

    def _subtitle_keys(self, version: Version) -> dict[str, str]:
        return subtitle_keys(self.session, version)

    def _start_version(self, version: Version, job: Job, worker: str) -> None:
        transition(
            self.session,
            version,
            Event.START_PROCESSING,
            None,
            details={"job_id": job.id, "attempt": job.attempts + 1, "worker": worker},
        )

    def _bind(self) -> Engine:
        bind = self.session.get_bind()
        return bind.engine if hasattr(bind, "engine") else bind  # type: ignore[return-value]

    def record_progress(self, job_id: int, percent: float, eta_seconds: float | None) -> None:
        """Store progress on the job row and renew the run's lease (a short transaction).

        Raise ``Superseded`` if a newer attempt owns the job.
        """
        values: dict[str, Any] = {
            "progress": round(min(max(percent, 0.0), 100.0), 2),
            "eta_seconds": eta_seconds,
        }
        if self.lease is not None and self.lease.row_id == job_id:
            self.lease.renew(**values)
            return
        with short_transaction(self.session) as s:
            s.execute(
                update(Job)
                .where(Job.id == job_id, Job.state == JobState.RUNNING)
                .values(heartbeat_at=utcnow(), **values)
            )

    def _fence(self, plan: ProcessingPlan) -> None:
        """Raise ``Superseded`` unless ``plan``'s attempt still owns the job (read afresh)."""
        query = select(Job.attempts, Job.state).where(Job.id == plan.job_id)
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.session.execute(query).one()
        if row.attempts != plan.attempt or row.state != JobState.RUNNING:
            raise Superseded(SUPERSEDED, params={"attempt": plan.attempt})

    def _renew(self) -> None:
        if self.lease is not None:
            self.lease.renew()

    def publish(self, plan: ProcessingPlan, result: ProcessingResult) -> None:
        """Publish a finished run: upload under temporary keys, move every file to its
        final key, drop files a previous run left there, record it all, mark ready.

        The version is not ready before the commit at the end, so nothing half-published
        is ever shown; a failure on the way removes what this run put under the
        version's prefixes, and the deterministic keys make a re-run overwrite, never
        duplicate.
        """
        staging = f"tmp/jobs/{plan.job_id}-{plan.attempt}"
        files = result.files
        sizes: dict[str, int] = {}
        fenced = False

        def stage(f: LocalFile) -> tuple[str, int]:
            size = self.storage.put_file(f"{staging}/{f.key}", f.path, content_type=_mime(f.path))
            self._renew()  # an upload of hundreds of files to S3 is a stage of its own
            return f.key, size

        try:
            with ThreadPoolExecutor(PUBLISH_THREADS) as pool:
                sizes = dict(pool.map(stage, files))
                if self.lease is not None:
                    self.lease.check()  # fencing: a superseded attempt publishes nothing
                fenced = True
                list(pool.map(lambda f: self.storage.move(f"{staging}/{f.key}", f.key), files))
            for prefix in self._replaced_prefixes(plan.version_id, result):
                for obj in list(self.storage.list(prefix)):
                    if obj.key not in sizes:
                        self.storage.delete(obj.key)
        except BaseException:
            if fenced:  # before the fence the final keys may belong to the newer attempt
                self.discard_outputs(plan.version_id)
            raise
        finally:
            self.storage.delete_prefix(staging + "/")
        self._fence(plan)
        if self.lease is not None:
            self.lease.release()
        version = self.session.get_one(Version, plan.version_id)
        self._record_renditions(version, result.renditions, sizes)
        if result.thumbnails is not None:
            self._record_thumbnails(version, result.thumbnails)
        self._record_analysis(version, plan.job_id, result.qc_report, result.loudness)
        self._finish_version(version, plan, result)
        job = self.session.get_one(Job, plan.job_id)
        JOB.fire(self.session, job, JobEvent.SUCCEED, None, details={"version_id": version.id})
        job.progress = 100.0
        job.eta_seconds = 0.0
        job.finished_at = utcnow()
        job.last_error, job.error_code, job.error_params = None, None, None
        job.lease_expires_at = None

    def _replaced_prefixes(self, version_id: int, result: ProcessingResult) -> Sequence[str]:
        """Return the prefixes whose files this run replaces (stale ones are deleted)."""
        return version_prefixes(version_id)

    def _finish_version(
        self, version: Version, plan: ProcessingPlan, result: ProcessingResult
    ) -> None:
        """The version is ready (reviewable); after a proxy-first run its ladder follows."""
        transition(
            self.session,
            version,
            Event.PROCESSING_SUCCEEDED,
            None,
            details={"job_id": plan.job_id, "outputs": [r.profile for r in result.renditions]},
        )
        if self.ladder is not None:
            from mam.services.ladder import queue_ladder  # noqa: PLC0415 - it imports this

            queue_ladder(self.session, version, hold=self.ladder == "after_approval")

    def discard_outputs(self, version_id: int) -> None:
        """Delete whatever processing wrote for a version that is not (yet) ready."""
        for prefix in version_prefixes(version_id):
            try:
                self.storage.delete_prefix(prefix)
            except Exception:  # cleanup must not hide the error being handled
                log.exception("could not remove %s", prefix)

    def fail(
        self,
        plan: ProcessingPlan,
        error: MamError,
        *,
        permanent: bool,
        qc_report: dict[str, Any] | None = None,
        loudness: dict[str, Any] | None = None,
    ) -> bool:
        """Record a failed attempt (and the QC report that explains it, if there is one);
        return True if the job should be retried. A superseded attempt records nothing."""
        self.session.rollback()  # drop what the failed attempt had not finished writing
        try:
            self._fence(plan)
        except Superseded:
            log.warning(
                "job %s attempt %s failed after being superseded: %s",
                plan.job_id,
                plan.attempt,
                error.message,
            )
            return False
        job = self.session.get_one(Job, plan.job_id)
        version = self.session.get_one(Version, plan.version_id)
        if job.state is not JobState.RUNNING:  # the reconciler took the job over meanwhile
            log.warning("job %s is %s; not recording this attempt's failure", job.id, job.state)
            return False
        retry = not permanent and job.attempts < self.max_attempts
        if retry:
            if version.state in (VersionState.UPLOADED, VersionState.PROCESSING):
                self.discard_outputs(version.id)
            JOB.fire(
                self.session, job, JobEvent.REQUEUE, None, reason=error.message,
                details={"version_id": version.id, "attempt": job.attempts},
            )  # fmt: skip
            record_error(job, error)
            job.heartbeat_at = utcnow()
            job.lease_expires_at = None
        else:
            self._give_up(job, version, error)
        self._record_analysis(version, job.id, qc_report, loudness)
        return retry

    def _give_up(self, job: Job, version: Version, error: MamError) -> None:
        """Fail the job and (if it is processing) the version, for good."""
        if version.state in (VersionState.UPLOADED, VersionState.PROCESSING):
            self.discard_outputs(version.id)
        reason = error.message
        JOB.fire(
            self.session, job, JobEvent.FAIL, None, reason=reason,
            details={"version_id": version.id, "attempts": job.attempts},
        )  # fmt: skip
        record_error(job, error)
        job.heartbeat_at = job.finished_at = utcnow()
        job.lease_expires_at = None
        if version.state == VersionState.PROCESSING:
            transition(
                self.session,
                version,
                Event.PROCESSING_FAILED,
                None,
                reason=reason,
                details={"job_id": job.id, "attempts": job.attempts},
            )

    def retry(self, job_id: int, actor: User) -> Job:
        """Queue a failed job again (admin action); it is sent to the workers after the commit."""
        job = self.session.get(Job, job_id)
        if job is None or job.version is None:
            raise NotFound(processing.JOB_MISSING, params={"id": job_id})
        JOB.check(job, JobEvent.RETRY, actor)
        if job.kind is JobKind.PROCESS:  # a ladder's version stayed reviewable
            transition(
                self.session, job.version, Event.RETRY_PROCESSING, actor, details={"job_id": job.id}
            )
        JOB.fire(self.session, job, JobEvent.RETRY, actor, details={"version_id": job.version_id})
        job.attempts = 0
        job.progress = 0.0
        job.finished_at = None
        outbox.enqueue_processing(self.session, job)
        return job


_MIME = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t", ".vtt": "text/vtt"}


def _mime(path: Path) -> str:
    return (
        _MIME.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )


def record_error(job: Job, error: MamError) -> None:
    """Store why ``job`` failed: its code and parameters (shown translated) and the English."""
    job.last_error = error.message
    job.error_code = error.code
    job.error_params = {**error.params, **({"detail": error.detail} if error.detail else {})}


def subtitle_keys(session: Session, version: Version) -> dict[str, str]:
    """Return the stored WebVTT the version plays in each language: the current revision
    as ``mam.services.subtitles.current_subtitles`` defines it (the version's own row over
    the episode's), never a newer row of another version or an older revision."""
    return {
        row.language: row.storage_key
        for row in current_subtitles(session, version)
        if row.storage_key
    }


def slate_lines(version: Version) -> tuple[str, ...]:
    """Return the opening slate's lines: programme, episode, date (burned into the picture,
    in the broadcast's language, Chinese)."""
    episode = version.episode
    title = f"第{episode.number}集 {episode.title}" if episode.number else episode.title
    return (episode.programme.name, title, version.created_at.strftime("%Y-%m-%d"))
