"""The worker process's runtime, built lazily after the pool forks."""

from __future__ import annotations

import functools

from celery import current_app

from mam.runtime import Runtime, build_runtime
from workers.dispatch import CeleryQueue


@functools.cache
def runtime() -> Runtime:
    """Return this process's runtime (settings from the environment); its units of work
    drain the outbox into the broker of the Celery app running the task."""
    rt = build_runtime()
    rt.db.queue = CeleryQueue(current_app._get_current_object())
    return rt
