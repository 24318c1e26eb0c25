"""Uploads move through their table: a cancel, an expiry and a refusal are audited acts."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import MamError
from mam.models import AuditEvent, Role, utcnow
from mam.models.catalogue import UploadState
from mam.runtime import Runtime
from mam.services.uploads import UploadService
from tests import factories

META = {"programme": "时代风采", "title": "示范片", "filetype": "video/mp4"}


def _service(session: Session, runtime: Runtime, tmp_path: Path) -> UploadService:
    return UploadService(session, runtime.storage, tmp_path / "staging", max_size=10_000)


def _rows(session: Session) -> list[tuple[str, str | None, str | None, int | None, str]]:
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "upload").order_by(AuditEvent.id)
    ).all()
    return [(r.action, r.from_state, r.to_state, r.actor_id, r.details["key"]) for r in rows]


def test_cancel_expire_and_refuse_are_audited(
    session: Session, runtime: Runtime, tmp_path: Path
) -> None:
    producer = factories.user(session, Role.PRODUCER)
    service = _service(session, runtime, tmp_path)
    cancelled = service.create(producer, length=4, filename="a.mp4", meta=META)
    service.cancel(cancelled.id, producer)
    stale = service.create(producer, length=4, filename="b.mp4", meta=META)
    stale.expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert service.expire() == 1
    refused = service.create(producer, length=4, filename="c.mp4", meta=META)
    with pytest.raises(MamError):  # four bytes of text are not media
        service.append(refused.id, producer, 0, io.BytesIO(b"text"), 4)
    session.expire_all()
    assert (cancelled.state, stale.state, refused.state) == (
        UploadState.CANCELLED, UploadState.EXPIRED, UploadState.FAILED
    )  # fmt: skip
    assert _rows(session) == [
        ("upload_cancelled", "open", "cancelled", producer.id, cancelled.id),
        ("upload_expired", "open", "expired", None, stale.id),
        ("upload_refused", "open", "failed", producer.id, refused.id),
    ]
