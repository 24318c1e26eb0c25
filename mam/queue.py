"""How the domain asks for background work without knowing Celery."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


class TaskQueue(Protocol):
    """Something that can hand a job to the workers (``workers.dispatch`` implements it)."""

    def enqueue_processing(self, version_id: int, job_id: int) -> str | None:
        """Enqueue processing of a version; return the broker's task id if known."""
        ...

    def enqueue_package(self, package_id: int) -> str | None:
        """Enqueue the build of a release package."""
        ...


@runtime_checkable
class ChordQueue(Protocol):
    """A queue that can also send the chord of a chunked ladder (``workers.dispatch``)."""

    def enqueue_chord(self, payload: dict[str, Any]) -> str | None:
        """Enqueue the pieces of ``payload`` and, once they are all made, their join."""
        ...


class NullQueue:
    """A queue that enqueues nothing: the reconciler or an operator picks the job up later."""

    def enqueue_processing(self, version_id: int, job_id: int) -> str | None:
        return None

    def enqueue_package(self, package_id: int) -> str | None:
        return None
