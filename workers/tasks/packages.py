"""Build release packages (BagIt ZIPs) for county centres."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

from celery import Task, shared_task

from mam.errors import MamError, Superseded
from mam.models.release import PackageState, ReleasePackage
from mam.services.packaging import PackageBuilder
from workers.branded import branded_files
from workers.celery_app import PACKAGE_TASK
from workers.profiles import cached_profiles
from workers.runtime import runtime

log = logging.getLogger(__name__)


@shared_task(bind=True, name=PACKAGE_TASK, acks_late=True)
def build_release_package(self: Task, package_id: int) -> str:
    """Build one package in one unit of work; safe to run twice (a ready package is left
    alone, a superseded attempt publishes nothing)."""
    rt = runtime()
    with rt.db.session() as session:
        package = session.get(ReleasePackage, package_id)
        if package is None or package.state == PackageState.READY:
            return "skipped"
        builder = PackageBuilder(
            session,
            rt.storage,
            rt.settings.work_dir or rt.settings.home,
            worker=self.request.hostname or "worker",
            lease_ttl=timedelta(seconds=rt.settings.lease_seconds),
            brand=functools.partial(
                branded_files,
                session,
                rt.storage,
                rt.settings,
                cached_profiles(rt.settings.profiles),
            ),
        )
        try:
            builder.build(package_id)
        except Superseded as exc:  # a newer attempt owns the build
            log.warning("package %s: %s", package_id, exc)
            session.rollback()
            return "superseded"
        except MamError as exc:  # recorded on the package row; nothing was published
            log.warning("package %s failed: %s", package_id, exc)
            return "failed"
    return "ready"
