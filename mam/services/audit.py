"""Reading the audit log: filters, an episode's history, CSV export. Rows are never changed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from mam.audit import OBJECT_LABELS, AuditAction, ObjectType
from mam.audit_names import SYSTEM, Described, Phrase, describe
from mam.exports import csv_row  # formula-safe cells (CSV injection)
from mam.i18n import N_
from mam.models import AuditEvent, User, Version, utcnow

CSV_COLUMNS = [
    N_("Id"),
    N_("When"),
    N_("Who"),
    N_("Username"),
    N_("What"),
    N_("Description"),
    N_("Object type"),
    N_("Object id"),
    N_("From"),
    N_("To"),
    N_("Why"),
    N_("Details"),
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
        query = (
            select(AuditEvent)
            .options(selectinload(AuditEvent.actor))
            .order_by(AuditEvent.id.desc())
        )
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

    def csv_lines(
        self, f: AuditFilter, translate: Callable[[str], str] = str, *, batch: int = 500
    ) -> Iterator[str]:
        """Yield the matching events as CSV (header first) in the language of ``translate``
        (a gettext function; English by default), fetched in batches. Times stay ISO 8601."""
        yield csv_row(translate(c) for c in CSV_COLUMNS)
        offset = 0
        while True:
            rows = self.events(f, limit=batch, offset=offset)
            described = describe(self.session, rows)
            for e, d in zip(rows, described, strict=True):
                yield csv_row(_columns(e, d, translate))
            if len(rows) < batch:
                return
            offset += batch


def _columns(e: AuditEvent, d: Described, translate: Callable[[str], str]) -> list[str]:
    def text(phrase: Phrase | None) -> str:
        return phrase.render(translate) if phrase else ""

    try:
        object_type = translate(OBJECT_LABELS[ObjectType(e.object_type)])
    except ValueError:
        object_type = e.object_type
    return [
        str(e.id),
        e.at.isoformat(),
        e.actor.display_name if e.actor else translate(SYSTEM.template),
        e.actor.username if e.actor else "",
        text(d.action),
        text(d.sentence),
        object_type,
        "" if e.object_id is None else str(e.object_id),
        text(d.from_state),
        text(d.to_state),
        e.reason or "",
        json.dumps(e.details or {}, ensure_ascii=False, sort_keys=True),
    ]


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
            AuditEvent.action == AuditAction.LOGIN_FAILED, AuditEvent.at >= since
        )
    ).all()
    by_user = sum(1 for d in recent if (d or {}).get("username") == username)
    by_ip = sum(1 for d in recent if ip and (d or {}).get("ip") == ip)
    return by_user >= LOGIN_MAX_FAILURES_PER_USER or by_ip >= LOGIN_MAX_FAILURES_PER_IP
