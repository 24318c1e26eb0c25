"""Process a version: every distribution rendition, thumbnails, QC (see workers.pipeline);
with MAM_PROXY_FIRST the review copy first, then the ladder as a job of its own
(``JobKind.LADDER``, see workers.ladder), both through this one task."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded

from mam.errors import ProcessingError, Superseded
from mam.messages import processing
from mam.models import Job, JobKind
from mam.runtime import Runtime
from mam.services.ladder import LadderService
from mam.services.processing import ProcessingPlan, ProcessingService
from workers.celery_app import PROCESS_TASK
from workers.ladder import REVIEW_PROFILE
from workers.pipeline import process_source
from workers.profiles import ProfileError, cached_profiles
from workers.runtime import runtime

log = logging.getLogger(__name__)
Work = Callable[[ProcessingPlan, ProcessingService], str]


def backoff(attempt: int) -> int:
    """Return the retry delay in seconds after ``attempt`` (30 s, 2 min, 8 min, ...)."""
    return min(30 * 4 ** max(attempt - 1, 0), 3600)


@shared_task(bind=True, name=PROCESS_TASK, acks_late=True, max_retries=None)
def process_version(self: Task, version_id: int, job_id: int | None = None) -> str:
    """Make the renditions of one version (or its ladder); safe to run twice."""
    worker = self.request.hostname or "worker"
    rt = runtime()
    if job_kind(rt, job_id) is JobKind.LADDER:
        from workers.tasks.chunks import run_ladder  # noqa: PLC0415 - tasks import each other

        outcome, plan = run_ladder(rt, version_id, job_id, worker)
    else:
        outcome, plan = run_processing(rt, version_id, job_id, worker)
    if outcome == "retry" and plan is not None:
        raise self.retry(countdown=backoff(plan.attempt), kwargs={"job_id": plan.job_id})
    return outcome


def job_kind(rt: Runtime, job_id: int | None) -> JobKind:
    if job_id is None:
        return JobKind.PROCESS
    with rt.db.session() as session:
        job = session.get(Job, job_id)
        return job.kind if job is not None else JobKind.PROCESS


def ladder_mode(rt: Runtime) -> str | None:
    """Return how a processing run is followed by the ladder (None: one run does all)."""
    settings = rt.settings
    if not settings.proxy_first or REVIEW_PROFILE not in cached_profiles(settings.profiles).names:
        return None
    return "after_approval" if settings.ladder_after_approval else "now"


def run_processing(
    rt: Runtime, version_id: int, job_id: int | None, worker: str
) -> tuple[str, ProcessingPlan | None]:
    """Run one attempt in one unit of work; return the outcome ("ready", "failed", "retry",
    "skipped", "superseded") and the attempt's plan."""
    mode = ladder_mode(rt)

    def work(plan: ProcessingPlan, service: ProcessingService) -> str:
        profiles = cached_profiles(rt.settings.profiles)
        if mode is not None:  # the review copy only; stills and QC as ever
            review = tuple(r for r in profiles.renditions if r.name == REVIEW_PROFILE)
            profiles = replace(profiles, renditions=review)
        process_source(
            plan,
            rt.storage,
            rt.settings,
            on_progress=lambda p: service.record_progress(plan.job_id, p.percent, p.eta),
            publish=lambda result: service.publish(plan, result),
            profiles=profiles,
        )
        return "ready"

    return run_attempt(rt, version_id, job_id, worker, work, ladder=mode)


def run_attempt(
    rt: Runtime,
    version_id: int,
    job_id: int | None,
    worker: str,
    work: Work,
    *,
    ladder: str | None = None,
    service_class: type[ProcessingService] = ProcessingService,
) -> tuple[str, ProcessingPlan | None]:
    """Claim the job, run ``work`` under its lease, record a failure the way it deserves."""
    with rt.db.session() as session:
        service = service_class(
            session,
            rt.storage,
            max_attempts=rt.settings.max_attempts,
            lease_ttl=timedelta(seconds=rt.settings.lease_seconds),
            ladder=ladder,
        )
        plan = service.begin(version_id, worker=worker, job_id=job_id)
        if plan is None or service.lease is None:
            return "skipped", None
        retry = False
        try:
            with service.lease.kept_alive():
                return work(plan, service), plan
        except Superseded as exc:  # a newer attempt owns the job: leave everything to it
            log.warning("job %s: %s", plan.job_id, exc)
            session.rollback()
            return "superseded", plan
        except SoftTimeLimitExceeded:
            limit = rt.settings.transcode_soft_time_limit
            timeout = ProcessingError(
                processing.TIME_LIMIT, params={"seconds": limit}, permanent=True
            )
            service.fail(plan, timeout, permanent=True)
            return "failed", plan
        except ProcessingError as exc:
            retry = service.fail(
                plan,
                exc,
                permanent=exc.permanent,
                qc_report=exc.details.get("qc_report"),  # type: ignore[arg-type]
                loudness=exc.details.get("loudness"),  # type: ignore[arg-type]
            )
        except ProfileError as exc:  # the profiles file changed under a running worker
            changed = ProcessingError(processing.PROFILES_CHANGED, detail=str(exc), permanent=False)
            retry = service.fail(plan, changed, permanent=False)
        except Exception as exc:  # storage or database trouble: worth another try
            log.exception("unexpected error processing version %s", version_id)
            unexpected = ProcessingError(
                processing.UNEXPECTED, detail=f"{type(exc).__name__}: {exc}", permanent=False
            )
            retry = service.fail(plan, unexpected, permanent=False)
    return ("retry" if retry else "failed"), plan


__all__ = ["LadderService", "process_version", "run_attempt", "run_processing"]
