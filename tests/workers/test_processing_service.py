"""The job bookkeeping around processing (no ffmpeg): dead workers, failures with QC."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import ProcessingError
from mam.i18n import translator
from mam.messages import processing, qc
from mam.models import AuditEvent, Job, JobKind, JobState, VersionState
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
        "The worker stopped 3 times while processing this version "
        "(stopped at the time limit or out of memory?)."
    )
    # Stored as a code with its parameters: shown in the reader's language.
    assert (job.error_code, job.error_params) == ("processing.worker_gone", {"attempts": 3})
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
    parts = [{"code": "qc.one_shorter", "template": qc.ONE_SHORTER.template,
              "params": {"outputs": "proxy", "actual": 1.0, "expected": 2.0}}]  # fmt: skip
    qc_failed = ProcessingError(processing.QC_FAILED, params={"reason": parts}, permanent=True)
    retry = service.fail(plan, qc_failed, permanent=True, qc_report=report,
                         loudness={"source": {"integrated": -20.0}, "results": []})  # fmt: skip
    assert retry is False
    session.commit()
    session.expire_all()
    row = session.query(QCReport).filter_by(version_id=plan.version_id).one()
    assert (row.verdict.value, row.errors, row.job_id) == ("fail", 1, job.id)
    assert row.findings[0]["check"] == "duration"
    assert job.error_code == "processing.qc_failed" and job.error_params == {"reason": parts}
    assert job.last_error == (
        "QC: proxy is shorter than the source (1.000 s against 2.000 s); the source may be damaged"
    )
    shown = processing.QC_FAILED.render(job.error_params, translator("zh_CN"))
    assert shown.startswith("质量检查：") and "proxy" in shown and "1.000" in shown
    assert job.version is not None and job.version.loudness.integrated == -20.0  # type: ignore[attr-defined]
    # A transient failure is retried (and counted) until the attempts run out.
    other = _job(session, JobState.QUEUED, attempts=0)
    plan = service.begin(other.version_id, worker="w", job_id=other.id)
    assert plan is not None
    unexpected = ProcessingError(
        processing.UNEXPECTED, detail="OSError: No space left on device", permanent=False
    )
    assert service.fail(plan, unexpected, permanent=False) is True
    session.commit()
    session.expire_all()
    assert other.state == JobState.QUEUED and other.error_code == "processing.unexpected"
    assert other.error_params == {"detail": "OSError: No space left on device"}
    assert other.last_error is not None and "No space left on device" in other.last_error


def test_a_job_for_a_version_that_needs_no_processing_is_skipped(
    runtime: Runtime, session: Session
) -> None:
    """A redelivered job whose version was processed meanwhile is skipped, not 'succeeded'."""
    service = ProcessingService(session, runtime.storage)
    job = _job(session, JobState.QUEUED, attempts=0)
    assert job.version is not None
    job.version.state = VersionState.READY  # tests may set a state directly
    session.commit()
    assert service.begin(job.version_id, worker="w", job_id=job.id) is None
    session.commit()  # the task's unit of work ends
    session.expire_all()
    assert job.state == JobState.SKIPPED and job.finished_at is not None
    audit = session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "job", AuditEvent.object_id == job.id)
    ).one()
    assert (audit.action, audit.from_state, audit.to_state, audit.actor_id) == (
        "job_skipped", "queued", "skipped", None
    )  # fmt: skip
    assert audit.details == {"version_id": job.version_id, "version_state": "ready"}
    # A skipped job is done: a second delivery does nothing.
    assert service.begin(job.version_id, worker="w", job_id=job.id) is None


def test_the_plan_burns_the_current_subtitle_revision(runtime: Runtime, session: Session) -> None:
    """The plan's subtitles are the ones the version plays (``current_subtitles``): the
    version's own current revision, not a newer row of another version of the episode, nor
    a newer episode-wide row, nor an older revision it replaced."""
    from mam.models import Asset, Version
    from mam.services.subtitles import Cue, store_subtitles

    job = _job(session, JobState.QUEUED, attempts=0)
    version = session.get_one(Version, job.version_id)
    episode = version.episode
    other = Version(
        episode=episode, number=2, state=VersionState.UPLOADED,
        asset=Asset(sha256="b" * 64, storage_key="originals/b", size=1, original_filename="b.mp4",
                    media_info={}),
    )  # fmt: skip
    session.add(other)
    session.flush()

    def save(text: str, target: Version | None, language: str = "zh") -> str:
        row = store_subtitles(
            session, runtime.storage, episode, [Cue(0.0, 1.0, text)],
            language=language, filename="a.vtt", actor=None, version=target,
        )  # fmt: skip
        return row.storage_key

    save("第一稿", version)
    mine = save("本版定稿", version)  # the version's current revision (the first is replaced)
    save("另一版", other)  # newer, of the other version
    save("全集通用", None)  # newer still, for every version without its own
    english = save("for every version", None, "en")
    session.commit()
    plan = ProcessingService(session, runtime.storage).begin(version.id, worker="w")
    assert plan is not None
    assert plan.subtitle_keys == {"zh": mine, "en": english}
