"""The outbox: tasks to hand to the broker, written in the same transaction as their rows."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mam.models.core import Base, _enum, utcnow


class OutboxTask(enum.StrEnum):
    PROCESS = "process"  # payload: version_id, job_id
    PACKAGE = "package"  # payload: package_id
    CHORD = "chord"  # a chunked ladder's pieces and join: job_id, attempt, pieces, cuts, resends


class OutboxMessage(Base):
    """One task to enqueue; ``sent_at`` is set once the broker has accepted it."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[OutboxTask] = mapped_column(_enum(OutboxTask))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    task_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed sends so far
    last_error: Mapped[str | None] = mapped_column(Text)
