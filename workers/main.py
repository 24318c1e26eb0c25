"""Entry point for ``celery -A workers.main``: the app built from the environment.

The distribution profiles are read here once, so a worker with a broken profiles file
refuses to start with the reason instead of failing every job.
"""

from __future__ import annotations

from mam.config import Settings
from workers.celery_app import make_celery
from workers.profiles import ProfileError, cached_profiles

settings = Settings.from_env()
try:
    cached_profiles(settings.profiles)
except ProfileError as exc:
    raise SystemExit(f"cannot start the worker: {exc}") from None
app = make_celery(settings)
