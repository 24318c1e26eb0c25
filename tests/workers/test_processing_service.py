"""The job bookkeeping around processing (no ffmpeg): dead workers, failures with QC."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mam.models import Job, JobKind, JobState, VersionState
from mam.models.processing import QCReport
from mam.runtime import Runtime
from mam.services.processing import ProcessingService
from tests import factories

MEDIA_INFO = {"container": "mov,mp4", "format_long_name": "QuickTime / MOV", "duration": 2.0,
              "video": [], "audio": []}  # fmt: skip


def _job(session: Session, state: JobState, attempts: int) -> Job:
    version = factories.version(session, VersionState.PROCESSING)
    version.asset.media_info = MEDIA_INFO
    job = Job(version_id=version.id, kind=JobKind.PROCESS, state=state, attempts=attempts)
    session.add(job)
    session.commit()
    return job


def test_a_job_whose_worker_keeps_dying_is_failed(runtime: Runtime, session: Session) -> None:
    """Redelivered after the worker was killed (hard time limit, OOM) too often: give up."""
    service = ProcessingService(session, runtime.storage, max_attempts=3)
    job = _job(session, JobState.RUNNING, attempts=3)
    runtime.storage.put_bytes(f"renditions/{job.version_id}/proxy/proxy.mp4", b"half")
    assert service.begin(job.version_id, worker="w", job_id=job.id) is None
    session.commit()  # the task's unit of work ends
    session.expire_all()
    assert job.state == JobState.FAILED and job.attempts == 3
    assert job.version is not None and job.version.state == VersionState.FAILED
    assert job.version.failure_reason == (
        "the worker stopped 3 times while processing this version "
        "(killed at the time limit or out of memory?)"
    )
    assert list(runtime.storage.list("renditions/")) == []  # nothing half-made is left
    # The reconciler re-queued it after the last death: the same.
    requeued = _job(session, JobState.QUEUED, attempts=3)
    assert service.begin(requeued.version_id, worker="w", job_id=requeued.id) is None
    session.commit()
    session.expire_all()
    assert requeued.state == JobState.FAILED
    # One death short of the limit: another attempt.
    again = _job(session, JobState.RUNNING, attempts=2)
    plan = service.begin(again.version_id, worker="w", job_id=again.id)
    assert plan is not None and plan.attempt == 3


def test_failure_keeps_the_qc_report_that_explains_it(runtime: Runtime, session: Session) -> None:
    service = ProcessingService(session, runtime.storage, max_attempts=3)
    job = _job(session, JobState.QUEUED, attempts=0)
    plan = service.begin(job.version_id, worker="w", job_id=job.id)
    assert plan is not None
    finding = {"check": "duration", "severity": "error", "message": "proxy is short", "start": 1.0}
    report = {"verdict": "fail", "errors": 1, "warnings": 0, "findings": [finding]}
    retry = service.fail(plan, "QC: proxy is short", permanent=True, qc_report=report,
                         loudness={"source": {"integrated": -20.0}, "results": []})  # fmt: skip
    assert retry is False
    session.commit()
    session.expire_all()
    row = session.query(QCReport).filter_by(version_id=plan.version_id).one()
    assert (row.verdict.value, row.errors, row.job_id) == ("fail", 1, job.id)
    assert row.findings[0]["check"] == "duration"
    assert job.version is not None and job.version.loudness.integrated == -20.0  # type: ignore[attr-defined]
    # A transient failure is retried (and counted) until the attempts run out.
    other = _job(session, JobState.QUEUED, attempts=0)
    plan = service.begin(other.version_id, worker="w", job_id=other.id)
    assert plan is not None
    assert service.fail(plan, "No space left on device", permanent=False) is True
    session.commit()
    session.expire_all()
    assert other.state == JobState.QUEUED and other.last_error == "No space left on device"
