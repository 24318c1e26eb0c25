"""Housekeeping: re-enqueue jobs the broker lost (the Job table is the truth); fixity audit."""

from __future__ import annotations

import logging
import tempfile
from datetime import timedelta
from pathlib import Path

from celery import shared_task
from sqlalchemy.orm.exc import StaleDataError

from mam.machines import JOB, JobEvent
from mam.models import JobState, utcnow
from mam.services.fixity import FixityAudit
from mam.services.notify import make_notifier
from mam.services.processing import ProcessingService
from workers.celery_app import FIXITY_TASK, PROCESS_TASK, RECONCILE_TASK, TRANSCODE
from workers.pipeline import sweep_work_dir
from workers.runtime import runtime

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=15)


@shared_task(name=RECONCILE_TASK)
def reconcile_jobs() -> int:
    """Re-enqueue queued or running jobs with no sign of life for ``STALE_AFTER``, and
    remove temporary directories that no running job can still be using."""
    rt = runtime()
    count = 0
    with rt.db.session() as session:
        service = ProcessingService(session, rt.storage)
        for job in service.stale_jobs(STALE_AFTER):
            if job.version_id is None:
                continue
            log.warning(
                "re-enqueueing stale job %s (%s since %s)",
                job.id,
                job.state,
                job.heartbeat_at or job.created_at,
            )
            if job.state == JobState.RUNNING:
                JOB.fire(
                    session, job, JobEvent.REQUEUE, None,
                    reason="no sign of life from its worker", details={"worker": job.worker},
                )  # fmt: skip
            job.heartbeat_at = utcnow()
            try:
                session.commit()
            except StaleDataError:  # its worker moved it meanwhile: it is alive after all
                session.rollback()
                continue
            reconcile_jobs.app.send_task(
                PROCESS_TASK, args=[job.version_id], kwargs={"job_id": job.id}, queue=TRANSCODE
            )
            count += 1
    swept = sweep_work_dir(
        rt.settings.work_dir or Path(tempfile.gettempdir()),
        older_than=rt.settings.transcode_time_limit + STALE_AFTER.total_seconds(),
    )
    if swept:
        log.warning("removed %s temporary job directories left by killed workers", swept)
    return count


@shared_task(name=FIXITY_TASK)
def fixity_audit() -> int:
    """Re-hash stored originals and packages, MAM_FIXITY_BYTES_PER_RUN at most; return the
    number of problems found."""
    rt = runtime()
    settings = rt.settings
    with rt.db.session() as session:
        audit = FixityAudit(
            session, rt.storage, notifier=make_notifier(settings.smtp_url, settings.mail_from)
        )
        run = audit.run(settings.fixity_bytes_per_run)
        session.commit()
        log.info("fixity: %s objects, %s bytes checked", len(run.checked), run.bytes)
        return len(run.problems)
