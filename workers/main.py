"""Entry point for ``celery -A workers.main``: the app built from the environment."""

from __future__ import annotations

from workers.celery_app import make_celery

app = make_celery()
