"""The ladder job: one ffmpeg run, or a chord of chunk tasks and a join (workers.ladder).

The chord is an outbox message written with the run's pieces (mam/pieces.py); every
delivery of a piece claims it first, so a duplicate runs nothing and a lost one runs alone.
"""

from __future__ import annotations

import logging
import math
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import Task, shared_task

from mam import outbox
from mam import pieces as pieces_
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
        assert service.lease is not None  # noqa: S101 - run_attempt holds it
        service.lease.check()  # still this attempt's (fencing); a full lease for the queue
        service.lease.release()  # the pieces renew it from now on (or the reconciler holds it)
        pieces = [{"name": pieces_.SOUND, "measured": measured}]
        pieces += [{"name": pieces_.chunk_name(c.index), "chunk": c.to_dict()} for c in found]
        cuts = [c.to_dict() for c in found]
        pieces_.dispatch_chunks(service.session, plan.job_id, plan.attempt, pieces, cuts)
        log.info("job %s: ladder in %d chunks recorded, sent after the commit", plan.job_id,
                 len(found))  # fmt: skip
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
    """Claim the piece, run it under its lease and the job's, stage what it made; retry it
    alone. A made piece is not made again; one another worker holds is waited for."""
    rt = runtime()
    plan = _plan(rt, job_id, attempt)
    if plan is None:
        return {"superseded": True}
    engine, settings = rt.db.engine, rt.settings
    ttl = timedelta(seconds=settings.lease_seconds)
    run = 0
    try:
        ladder.piece_lease(engine, job_id, attempt, settings).check()
        claim = pieces_.claim_piece(engine, job_id, attempt, label,
                                    task.request.hostname or "?", ttl)  # fmt: skip
        if claim.outcome == "gone":
            return {"superseded": True}
        if claim.outcome == "done":
            log.info("job %s: %s was made already", job_id, label)
            return {"keys": list(claim.keys)}
        if claim.outcome == "busy":  # another worker runs it: look again when its lease ends
            raise task.retry(countdown=max(5.0, min(claim.wait + 1, ttl.total_seconds() / 3)))
        run = claim.run
        lease = pieces_.PieceLease(engine, job_id, attempt, label, run, ttl)
        encode = ladder.ladder_plan_for(plan.media_info, settings)
        with (
            ladder.source_for(rt.storage, plan.source_key) as source,
            tempfile.TemporaryDirectory(prefix=f"ladder{job_id}-{label}-") as tmp,
        ):
            files = make(source, plan, encode, Path(tmp) / label, lease)
            keys = ladder.upload_piece(
                rt.storage, ladder.staging_prefix(job_id, attempt), files, lease
            )
        pieces_.finish_piece(engine, job_id, attempt, label, run, keys)
        return {"keys": keys}
    except Superseded:
        return {"superseded": True}
    except ProcessingError as exc:
        if not exc.permanent and run <= PIECE_RETRIES:
            pieces_.let_go(engine, job_id, attempt, label, run)
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

    return _piece(self, job_id, attempt, pieces_.chunk_name(piece.index), make)


@shared_task(bind=True, name=SOUND_TASK, acks_late=True, ignore_result=False, max_retries=None)
def encode_sound(
    self: Task, job_id: int, attempt: int, measured: dict[str, Any] | None
) -> dict[str, Any]:
    """Encode the whole film's sound once for every output of the ladder."""

    def make(source: str, plan: ProcessingPlan, encode: Any, out: Path, lease: Any) -> list[Path]:
        return chunked.encode_audio(
            source, plan.media_info, encode, out, measured=_measured(measured)
        )

    return _piece(self, job_id, attempt, pieces_.SOUND, make)


@shared_task(bind=True, name=JOIN_TASK, acks_late=True, max_retries=None)
def join_ladder(
    self: Task, results: list[dict[str, Any]], job_id: int, attempt: int, cuts: list[dict[str, int]]
) -> str:
    """Join the pieces without re-encoding, check and publish the ladder (once: the join
    is a piece of its own; a join whose pieces are not all made leaves the run to the
    reconciler, which sends the chord again)."""
    rt = runtime()
    plan = _plan(rt, job_id, attempt)
    if plan is None or any(r.get("superseded") for r in results):
        return "superseded"
    engine = rt.db.engine
    keys = pieces_.staged_keys(engine, job_id, attempt)
    if keys is None:
        log.warning("job %s: a piece of attempt %s is not made; no join yet", job_id, attempt)
        return "waiting"
    ttl = timedelta(seconds=rt.settings.lease_seconds)
    claim = pieces_.claim_piece(engine, job_id, attempt, pieces_.JOIN,
                                self.request.hostname or "?", ttl)  # fmt: skip
    if claim.outcome != "run":
        return "joined elsewhere"
    prefix = ladder.staging_prefix(job_id, attempt)
    outcome = "ready"
    with rt.db.session() as session:
        service = LadderService(session, rt.storage, max_attempts=rt.settings.max_attempts)
        service.lease = pieces_.PieceLease(engine, job_id, attempt, pieces_.JOIN, claim.run, ttl)
        try:
            encode = ladder.ladder_plan_for(plan.media_info, rt.settings)
            with tempfile.TemporaryDirectory(prefix=f"ladder{job_id}-join-") as tmp:
                work, out = Path(tmp) / "pieces", Path(tmp) / "out"
                ladder.download_pieces(rt.storage, keys, work)
                found = [chunks.Chunk.from_dict(c) for c in cuts]
                ladder.join_pieces(work, encode, found, out)
                result = ladder.check_outputs(out, encode, plan.media_info, plan.version_id,
                                              rt.settings)  # fmt: skip
                service.publish(plan, result)
        except Superseded:
            session.rollback()
            return "superseded"
        except ProcessingError as exc:
            outcome = _failed(session, service, plan, exc)
        except Exception as exc:
            log.exception("joining the ladder of job %s failed", job_id)
            error = ProcessingError(
                processing.UNEXPECTED, detail=f"{type(exc).__name__}: {exc}", permanent=False
            )
            outcome = _failed(session, service, plan, error)
    rt.storage.delete_prefix(prefix)  # published, or failed (a retry is a new attempt)
    return outcome
