"""Housekeeping: deliver the outbox, take over stale jobs and package builds (the database is
the truth), remove orphaned work directories; the fixity audit."""

from __future__ import annotations

import logging
import tempfile
from datetime import date, timedelta
from pathlib import Path

from celery import shared_task
from sqlalchemy.orm.exc import StaleDataError

from mam import outbox
from mam.runtime import Runtime
from mam.services.fixity import FixityAudit
from mam.services.licence_sweep import LicenceSweep
from mam.services.licences import today
from mam.services.notify import make_notifier
from mam.services.reconcile import Reconciler
from workers.celery_app import FIXITY_TASK, LICENCE_SWEEP_TASK, RECONCILE_TASK
from workers.pipeline import sweep_work_dir
from workers.runtime import runtime

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=15)  # a queued job or package with no sign of life
OUTBOX_AFTER = timedelta(seconds=30)  # an unsent message the committing process did not send


@shared_task(name=RECONCILE_TASK)
def reconcile_jobs() -> int:
    """Send what the outbox still holds, take over expired leases and lost messages, and
    remove temporary directories that no running job can still be using; return how many
    jobs and packages were taken over."""
    rt = runtime()
    count = reconcile(rt, STALE_AFTER)
    swept = sweep_work_dir(
        rt.settings.work_dir or Path(tempfile.gettempdir()),
        older_than=rt.settings.transcode_time_limit + STALE_AFTER.total_seconds(),
    )
    if swept:
        log.warning("removed %s temporary job directories left by killed workers", swept)
    return count


def reconcile(rt: Runtime, grace: timedelta, outbox_after: timedelta = OUTBOX_AFTER) -> int:
    """One reconciler pass in one unit of work (its messages are sent after the commit)."""
    if rt.db.queue is not None:  # the broker was down when these were committed
        outbox.drain(rt.db.engine, rt.db.queue, older_than=outbox_after)
    with rt.db.session() as session:
        reconciler = Reconciler(session, grace)
        for job, action in reconciler.keep_chunked_runs():
            if action == "resent":
                log.warning("job %s: no piece of its chunked ladder (attempt %s) shows a sign "
                            "of life; its chord is sent again", job.id, job.attempts)  # fmt: skip
        jobs = reconciler.stale_jobs()
        for job in jobs:
            log.warning(
                "taking over job %s (%s, attempt %s, lease until %s, last sign of life %s)",
                job.id, job.state, job.attempts, job.lease_expires_at,
                job.heartbeat_at or job.created_at,
            )  # fmt: skip
            try:
                with session.begin_nested():  # a savepoint: only this take-over is undone
                    reconciler.take_over_job(job)
            except StaleDataError:  # its worker moved it meanwhile: it is alive after all
                log.info("job %s moved while being taken over; left to its worker", job.id)
        packages = reconciler.stale_packages()
        for package in packages:
            log.warning(
                "taking over package %s (%s, attempt %s, lease until %s)",
                package.id, package.state, package.attempts, package.lease_expires_at,
            )  # fmt: skip
            try:
                with session.begin_nested():
                    reconciler.take_over_package(package)
            except StaleDataError:
                log.info("package %s moved while being taken over; left to its worker", package.id)
    return len(jobs) + len(packages)


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
        log.info("fixity: %s objects, %s bytes checked", len(run.checked), run.bytes)
        return len(run.problems)


@shared_task(name=LICENCE_SWEEP_TASK)
def licence_sweep(day: str | None = None) -> dict[str, object]:
    """Send licence expiry notices and withdraw what expired licences no longer cover.

    ``day`` (ISO) replaces the library's date (catching up, tests); return what was done."""
    rt = runtime()
    settings = rt.settings
    on = date.fromisoformat(day) if day else today()
    with rt.db.session() as session:
        notifier = make_notifier(settings.smtp_url, settings.mail_from)
        result = LicenceSweep(session, notifier).run(on)
    if result.withdrawn:
        log.warning("licences ended: withdrew %s", ", ".join(result.withdrawn))
    return {"notices": result.notices, "withdrawn": result.withdrawn}
