"""Reading the audit log: filters, an episode's history, CSV export. Rows are never changed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from mam.exports import csv_row
from mam.models import AuditEvent, User, Version, utcnow

CSV_COLUMNS = [
    "id",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "from",
    "to",
    "reason",
    "details",
]


@dataclass(frozen=True)
class AuditFilter:
    """What to look for; every field is optional."""

    actor: str | None = None  # username
    action: str | None = None
    object_type: str | None = None
    object_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditService:
    """Queries over AuditEvent; there is deliberately no method that writes or deletes."""

    def __init__(self, session: Session, storage: object | None = None) -> None:
        self.session = session

    def _query(self, f: AuditFilter) -> Select[Any]:
        query = select(AuditEvent).order_by(AuditEvent.id.desc())
        if f.actor:
            query = query.join(User, AuditEvent.actor_id == User.id).where(User.username == f.actor)
        if f.action:
            query = query.where(AuditEvent.action == f.action)
        if f.object_type:
            query = query.where(AuditEvent.object_type == f.object_type)
        if f.object_id is not None:
            query = query.where(AuditEvent.object_id == f.object_id)
        if f.since:
            query = query.where(AuditEvent.at >= f.since)
        if f.until:
            query = query.where(AuditEvent.at < f.until)
        return query

    def events(self, f: AuditFilter, *, limit: int = 200, offset: int = 0) -> list[AuditEvent]:
        """Return matching events, newest first."""
        return list(self.session.scalars(self._query(f).limit(limit).offset(offset)))

    def actions(self) -> list[str]:
        """Return every action name that occurs in the log (for a filter menu)."""
        return sorted(self.session.scalars(select(AuditEvent.action).distinct()))

    def episode_history(self, episode_id: int) -> list[AuditEvent]:
        """Return what happened to an episode's versions, oldest first."""
        version_ids = select(Version.id).where(Version.episode_id == episode_id)
        return list(
            self.session.scalars(
                select(AuditEvent)
                .where(
                    or_(AuditEvent.object_type == "version", AuditEvent.object_type == "comment"),
                    AuditEvent.object_id.in_(version_ids),
                )
                .order_by(AuditEvent.id)
            )
        )

    def csv_lines(self, f: AuditFilter, *, batch: int = 500) -> Iterator[str]:
        """Yield the matching events as CSV (header first), fetched in batches."""
        yield _csv_row(CSV_COLUMNS)
        offset = 0
        while True:
            rows = self.events(f, limit=batch, offset=offset)
            yield from (_csv_row(_columns(e)) for e in rows)
            if len(rows) < batch:
                return
            offset += batch


def _columns(e: AuditEvent) -> list[str]:
    return [
        str(e.id),
        e.at.isoformat(),
        e.actor.username if e.actor else "system",
        e.action,
        e.object_type,
        "" if e.object_id is None else str(e.object_id),
        e.from_state or "",
        e.to_state or "",
        e.reason or "",
        json.dumps(e.details or {}, ensure_ascii=False, sort_keys=True),
    ]


def _csv_row(values: Iterable[str]) -> str:
    return csv_row(values)  # formula-safe cells (CSV injection)


LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_MAX_FAILURES_PER_USER = 5
LOGIN_MAX_FAILURES_PER_IP = 30


def login_blocked(session: Session, username: str, ip: str | None) -> bool:
    """Say whether sign-in for ``username`` (or from ``ip``) is paused after repeated failures.

    Counted from the audit log, so every web process sees the same attempts.
    """
    since = utcnow() - LOGIN_WINDOW
    recent = session.scalars(
        select(AuditEvent.details).where(
            AuditEvent.action == "login_failed", AuditEvent.at >= since
        )
    ).all()
    by_user = sum(1 for d in recent if (d or {}).get("username") == username)
    by_ip = sum(1 for d in recent if ip and (d or {}).get("ip") == ip)
    return by_user >= LOGIN_MAX_FAILURES_PER_USER or by_ip >= LOGIN_MAX_FAILURES_PER_IP
