"""The worker process's runtime, built lazily after the pool forks."""

from __future__ import annotations

import functools

from mam.runtime import Runtime, build_runtime


@functools.cache
def runtime() -> Runtime:
    """Return this process's runtime (settings from the environment)."""
    return build_runtime()
