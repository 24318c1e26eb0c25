"""The ladder job: one ffmpeg run, or a chord of chunk tasks and a join (workers.ladder)."""

from __future__ import annotations

import logging
import math
import tempfile
from pathlib import Path
from typing import Any

from celery import Task, chord, shared_task

from mam import outbox
from mam.errors import ProcessingError, Superseded
from mam.messages import processing
from mam.models import Job
from mam.runtime import Runtime
from mam.services.ladder import LadderService
from mam.services.processing import ProcessingPlan, ProcessingService, slate_lines, subtitle_keys
from workers import chunked, ladder
from workers.celery_app import CHUNK_TASK, JOIN_TASK, SOUND_TASK
from workers.ffmpeg import analysis, chunks
from workers.pipeline import branding_inputs
from workers.runtime import runtime
from workers.tasks.processing import run_attempt

log = logging.getLogger(__name__)
PIECE_RETRIES = 3


def run_ladder(
    rt: Runtime, version_id: int, job_id: int | None, worker: str
) -> tuple[str, ProcessingPlan | None]:
    """Run one attempt of a ladder job: encode and publish, or dispatch the chord."""

    def work(plan: ProcessingPlan, service: ProcessingService) -> str:
        settings = rt.settings
        with ladder.source_for(rt.storage, plan.source_key) as source:
            cards = ladder.has_cards(plan, settings)
            if not ladder.should_chunk(plan.media_info, settings, cards=cards):
                progress = lambda p: service.record_progress(plan.job_id, p.percent, p.eta)  # noqa: E731
                out, encode, tmp, branding = ladder.encode_whole(
                    plan, source, settings, progress, rt.storage
                )
                with tmp:
                    result = ladder.check_outputs(
                        out, encode, plan.media_info, plan.version_id, settings, branding
                    )
                    service.publish(plan, result)
                return "ready"
            found, measured = ladder.prepare_chunks(plan, source, settings)
        args = {"job_id": plan.job_id, "attempt": plan.attempt}
        header = [encode_sound.s(measured=measured, **args)]
        header += [encode_chunk.s(chunk=c.to_dict(), **args) for c in found]
        chord(header)(join_ladder.s(cuts=[c.to_dict() for c in found], **args))
        log.info("job %s: ladder in %d chunks dispatched", plan.job_id, len(found))
        return "dispatched"

    return run_attempt(rt, version_id, job_id, worker, work, service_class=LadderService)


def _plan(rt: Runtime, job_id: int, attempt: int) -> ProcessingPlan | None:
    """Re-read the job; None if ``attempt`` no longer owns it."""
    from mam.probe import MediaInfo  # noqa: PLC0415

    with rt.db.session() as session:
        job = session.get(Job, job_id)
        if job is None or job.version is None or job.attempts != attempt:
            return None
        version = job.version
        return ProcessingPlan(
            job_id, version.id, attempt, version.asset.storage_key,
            version.asset.original_filename, MediaInfo.from_dict(version.asset.media_info),
            subtitle_keys=subtitle_keys(session, version), slate_lines=slate_lines(version),
        )  # fmt: skip


def _measured(data: dict[str, Any] | None) -> analysis.LoudnessMeasurement | None:
    if data is None:
        return None
    def number(key: str) -> float:
        value = data.get(key) if data else None
        return -math.inf if value is None else float(value)

    return analysis.LoudnessMeasurement(
        number("integrated"), number("true_peak"), number("lra"), number("threshold")
    )


def _piece(task: Task, job_id: int, attempt: int, label: str, make: Any) -> dict[str, Any]:
    """Run one piece under the job's lease; upload what it made; retry it alone."""
    rt = runtime()
    plan = _plan(rt, job_id, attempt)
    if plan is None:
        return {"superseded": True}
    lease = ladder.piece_lease(rt.db.engine, job_id, attempt, rt.settings)
    try:
        lease.check()
        encode = ladder.ladder_plan_for(plan.media_info, rt.settings)
        with (
            ladder.source_for(rt.storage, plan.source_key) as source,
            tempfile.TemporaryDirectory(prefix=f"ladder{job_id}-{label}-") as tmp,
        ):
            files = make(source, plan, encode, Path(tmp) / label, lease)
            keys = ladder.upload_piece(
                rt.storage, ladder.staging_prefix(job_id, attempt), files, lease
            )
        return {"keys": keys}
    except Superseded:
        return {"superseded": True}
    except ProcessingError as exc:
        if not exc.permanent and task.request.retries < PIECE_RETRIES:
            raise task.retry(countdown=30) from exc
        _fail(rt, plan, exc)
        raise


def _fail(rt: Runtime, plan: ProcessingPlan, error: ProcessingError) -> None:
    with rt.db.session() as session:
        service = LadderService(session, rt.storage, max_attempts=rt.settings.max_attempts)
        try:
            service.fail(plan, error, permanent=True)
        except Superseded:
            session.rollback()


def _failed(
    session: Any, service: LadderService, plan: ProcessingPlan, error: ProcessingError
) -> str:
    """Record a failed join; a transient one runs the whole ladder job again."""
    try:
        retry = service.fail(plan, error, permanent=error.permanent)
    except Superseded:
        return "superseded"
    if retry:
        outbox.enqueue_processing(session, session.get_one(Job, plan.job_id))
        return "retry"
    return "failed"


@shared_task(bind=True, name=CHUNK_TASK, acks_late=True, ignore_result=False, max_retries=None)
def encode_chunk(self: Task, job_id: int, attempt: int, chunk: dict[str, int]) -> dict[str, Any]:
    """Encode one chunk's video ladder; its files go to storage for the join."""
    piece = chunks.Chunk.from_dict(chunk)

    def make(source: str, plan: ProcessingPlan, encode: Any, out: Path, lease: Any) -> list[Path]:
        rt = runtime()  # the film's captions (written beside the piece), re-timed per chunk
        branding = branding_inputs(plan, rt.storage, encode, out.parent)
        return chunked.encode_chunk(
            source, plan.media_info, encode, piece, out,
            threads=rt.settings.ffmpeg_threads, on_progress=lambda _p: lease.renew(),
            branding=branding,
        )  # fmt: skip

    return _piece(self, job_id, attempt, f"chunk{piece.index}", make)


@shared_task(bind=True, name=SOUND_TASK, acks_late=True, ignore_result=False, max_retries=None)
def encode_sound(
    self: Task, job_id: int, attempt: int, measured: dict[str, Any] | None
) -> dict[str, Any]:
    """Encode the whole film's sound once for every output of the ladder."""

    def make(source: str, plan: ProcessingPlan, encode: Any, out: Path, lease: Any) -> list[Path]:
        return chunked.encode_audio(
            source, plan.media_info, encode, out, measured=_measured(measured)
        )

    return _piece(self, job_id, attempt, "sound", make)


@shared_task(bind=True, name=JOIN_TASK, acks_late=True, max_retries=None)
def join_ladder(
    self: Task, results: list[dict[str, Any]], job_id: int, attempt: int, cuts: list[dict[str, int]]
) -> str:
    """Join the pieces without re-encoding, check and publish the ladder."""
    rt = runtime()
    plan = _plan(rt, job_id, attempt)
    if plan is None or any(r.get("superseded") for r in results):
        return "superseded"
    prefix = ladder.staging_prefix(job_id, attempt)
    with rt.db.session() as session:
        service = LadderService(session, rt.storage, max_attempts=rt.settings.max_attempts)
        service.lease = ladder.piece_lease(rt.db.engine, job_id, attempt, rt.settings)
        try:
            encode = ladder.ladder_plan_for(plan.media_info, rt.settings)
            with tempfile.TemporaryDirectory(prefix=f"ladder{job_id}-join-") as tmp:
                work, out = Path(tmp) / "pieces", Path(tmp) / "out"
                ladder.download_pieces(rt.storage, [k for r in results for k in r["keys"]], work)
                found = [chunks.Chunk.from_dict(c) for c in cuts]
                ladder.join_pieces(work, encode, found, out)
                result = ladder.check_outputs(out, encode, plan.media_info, plan.version_id,
                                              rt.settings)  # fmt: skip
                service.publish(plan, result)
        except Superseded:
            session.rollback()
            return "superseded"
        except ProcessingError as exc:
            return _failed(session, service, plan, exc)
        except Exception as exc:
            log.exception("joining the ladder of job %s failed", job_id)
            error = ProcessingError(
                processing.UNEXPECTED, detail=f"{type(exc).__name__}: {exc}", permanent=False
            )
            return _failed(session, service, plan, error)
        finally:
            rt.storage.delete_prefix(prefix)
    return "ready"
