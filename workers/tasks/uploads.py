"""Expire abandoned resumable uploads (hourly, from beat)."""

from __future__ import annotations

from celery import shared_task

from mam.services.uploads import UploadService
from workers.celery_app import EXPIRE_UPLOADS_TASK
from workers.runtime import runtime


@shared_task(name=EXPIRE_UPLOADS_TASK)
def expire_uploads() -> int:
    """Expire uploads untouched past their expiry and delete their staged bytes."""
    rt = runtime()
    with rt.db.session() as session:
        return UploadService(
            session,
            rt.storage,
            rt.settings.upload_staging_dir,
            max_size=rt.settings.max_upload_size,
        ).expire()
