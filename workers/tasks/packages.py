"""Build release packages (BagIt ZIPs) for county centres."""

from __future__ import annotations

import logging

from celery import shared_task

from mam.errors import MamError
from mam.models.release import PackageState, ReleasePackage
from mam.services.packaging import PackageBuilder
from workers.celery_app import PACKAGE_TASK
from workers.runtime import runtime

log = logging.getLogger(__name__)


@shared_task(name=PACKAGE_TASK, acks_late=True)
def build_release_package(package_id: int) -> str:
    """Build one package; safe to run twice (a ready package is left alone)."""
    rt = runtime()
    with rt.db.session() as session:
        package = session.get(ReleasePackage, package_id)
        if package is None or package.state == PackageState.READY:
            return "skipped"
        builder = PackageBuilder(session, rt.storage, rt.settings.work_dir or rt.settings.home)

        def progress(percent: float) -> None:
            package.progress = round(percent, 1)
            session.commit()

        try:
            builder.build(package_id, progress)
        except MamError as exc:  # recorded on the package row; nothing was published
            log.warning("package %s failed: %s", package_id, exc)
            return "failed"
    return "ready"
