"""Enqueue Celery tasks on behalf of the domain (implements ``mam.queue.TaskQueue``)."""

from __future__ import annotations

from typing import Any

from celery import Celery, chord

from workers.celery_app import (
    CHUNK_TASK,
    DEFAULT,
    JOIN_TASK,
    PACKAGE_TASK,
    PROCESS_TASK,
    SOUND_TASK,
    TRANSCODE,
)


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

    def enqueue_chord(self, payload: dict[str, Any]) -> str | None:
        """Enqueue a chunked ladder's pieces (the sound, the chunks) as a chord whose body
        is the join (an outbox message, ``mam.pieces.dispatch_chunks``)."""
        run = {"job_id": payload["job_id"], "attempt": payload["attempt"]}
        header = [
            self.app.signature(SOUND_TASK, kwargs={**run, "measured": p.get("measured")})
            if p["name"] == "sound"
            else self.app.signature(CHUNK_TASK, kwargs={**run, "chunk": p["chunk"]})
            for p in payload["pieces"]
        ]
        join = self.app.signature(JOIN_TASK, kwargs={**run, "cuts": payload["cuts"]})
        result = chord(header, app=self.app)(join)
        return str(result.id)
