"""Process a version: every distribution rendition, thumbnails, QC (see workers.pipeline)."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded

from mam.errors import ProcessingError, Superseded
from mam.messages import processing
from mam.runtime import Runtime
from mam.services.processing import ProcessingPlan, ProcessingService
from workers.celery_app import PROCESS_TASK
from workers.pipeline import process_source
from workers.profiles import ProfileError
from workers.runtime import runtime

log = logging.getLogger(__name__)


def backoff(attempt: int) -> int:
    """Return the retry delay in seconds after ``attempt`` (30 s, 2 min, 8 min, ...)."""
    return min(30 * 4 ** max(attempt - 1, 0), 3600)


@shared_task(bind=True, name=PROCESS_TASK, acks_late=True, max_retries=None)
def process_version(self: Task, version_id: int, job_id: int | None = None) -> str:
    """Make the renditions of one version; safe to run twice."""
    worker = self.request.hostname or "worker"
    outcome, plan = run_processing(runtime(), version_id, job_id, worker)
    if outcome == "retry" and plan is not None:
        raise self.retry(countdown=backoff(plan.attempt), kwargs={"job_id": plan.job_id})
    return outcome


def run_processing(
    rt: Runtime, version_id: int, job_id: int | None, worker: str
) -> tuple[str, ProcessingPlan | None]:
    """Run one attempt in one unit of work; return the outcome ("ready", "failed", "retry",
    "skipped", "superseded") and the attempt's plan."""
    with rt.db.session() as session:
        service = ProcessingService(
            session,
            rt.storage,
            max_attempts=rt.settings.max_attempts,
            lease_ttl=timedelta(seconds=rt.settings.lease_seconds),
        )
        plan = service.begin(version_id, worker=worker, job_id=job_id)
        if plan is None or service.lease is None:
            return "skipped", None
        retry = False
        try:
            with service.lease.kept_alive():
                process_source(
                    plan,
                    rt.storage,
                    rt.settings,
                    on_progress=lambda p: service.record_progress(plan.job_id, p.percent, p.eta),
                    publish=lambda result: service.publish(plan, result),
                )
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
        else:
            return "ready", plan
    return ("retry" if retry else "failed"), plan
