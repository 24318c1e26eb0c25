"""Enqueue Celery tasks on behalf of the domain (implements ``mam.queue.TaskQueue``)."""

from __future__ import annotations

from celery import Celery

from workers.celery_app import DEFAULT, PACKAGE_TASK, PROCESS_TASK, TRANSCODE


class CeleryQueue:
    """Send tasks by name through a Celery app configured for the same broker."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def enqueue_processing(self, version_id: int, job_id: int) -> str | None:
        """Enqueue ``process_version`` on the transcode queue."""
        result = self.app.send_task(
            PROCESS_TASK, args=[version_id], kwargs={"job_id": job_id}, queue=TRANSCODE
        )
        return str(result.id)

    def enqueue_package(self, package_id: int) -> str | None:
        """Enqueue the build of one release package on the default queue."""
        result = self.app.send_task(PACKAGE_TASK, args=[package_id], queue=DEFAULT)
        return str(result.id)
