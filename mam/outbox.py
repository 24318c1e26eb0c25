"""Durable enqueueing: a task is an outbox row written in the caller's transaction.

``enqueue_processing`` / ``enqueue_package`` add a row; after the commit the unit of work's
queue is asked to send it (:func:`drain`), and the beat reconciler drains whatever is left
(the broker was down, the process died between commit and send). A broker outage therefore
delays work and never loses it. Sending twice is harmless: every task is safe to run twice,
and a running job's lease keeps a second copy from running it concurrently.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from mam.i18n import N_
from mam.models import Job, utcnow
from mam.models.outbox import OutboxMessage, OutboxTask
from mam.queue import ChordQueue, TaskQueue
from mam.uow import QUEUE_KEY, REPORTS_KEY, after_commit, transaction_state

log = logging.getLogger(__name__)

# The one message a person sees when the broker could not take the work (web, CLI).
QUEUE_DELAYED = N_(
    "Saved. The task queue cannot be reached right now; the work will start by itself as "
    "soon as it is back."
)


@dataclass
class DrainResult:
    """What one drain did: messages sent, messages left for later and why."""

    sent: int = 0
    delayed: int = 0
    error: str | None = None


def enqueue_processing(session: Session, job: Job) -> OutboxMessage:
    """Enqueue processing of ``job``'s version once the transaction commits."""
    return _add(session, OutboxTask.PROCESS, {"version_id": job.version_id, "job_id": job.id})


def enqueue_package(session: Session, package_id: int) -> OutboxMessage:
    """Enqueue the build of a release package once the transaction commits."""
    return _add(session, OutboxTask.PACKAGE, {"package_id": package_id})


def enqueue_chord(session: Session, payload: dict[str, Any]) -> OutboxMessage:
    """Enqueue the chord of a chunked ladder run (``mam.pieces.dispatch_chunks``)."""
    return _add(session, OutboxTask.CHORD, payload)


def _add(session: Session, task: OutboxTask, payload: dict[str, Any]) -> OutboxMessage:
    message = OutboxMessage(task=task, payload=payload)
    session.add(message)
    session.flush()
    pending = transaction_state(session).setdefault("outbox", [])
    if not pending:
        after_commit(session, partial(_drain_committed, session, pending))
    pending.append(message.id)
    return message


def _drain_committed(session: Session, ids: list[int]) -> None:
    queue = session.info.get(QUEUE_KEY)
    if queue is None:  # no broker known here (a test, a script): the reconciler sends it
        return
    result = drain(session.get_bind(), queue, ids=ids)  # type: ignore[arg-type]
    session.info.setdefault(REPORTS_KEY, []).append(result)


def queue_trouble(session: Session) -> DrainResult | None:
    """Return (and forget) the first drain of this unit of work that left messages behind."""
    reports: list[DrainResult] = session.info.pop(REPORTS_KEY, [])
    return next((r for r in reports if r.delayed), None)


def drain(
    bind: Engine,
    queue: TaskQueue,
    *,
    ids: Sequence[int] | None = None,
    older_than: timedelta | None = None,
    limit: int = 500,
) -> DrainResult:
    """Send unsent outbox messages (``ids`` only, or those older than ``older_than``).

    No transaction is held while the broker is talked to. The first send that fails stops
    the drain (the broker is down: do not hammer it); the rest wait for the next drain.
    """
    query = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    if older_than is not None:
        query = query.where(OutboxMessage.created_at < utcnow() - older_than)
    with Session(bind=bind, expire_on_commit=False) as s, s.begin():
        messages = list(s.scalars(query.order_by(OutboxMessage.id).limit(limit)))
    result = DrainResult()
    sent: list[tuple[OutboxMessage, str | None]] = []
    for message in messages:
        try:
            sent.append((message, _send(queue, message)))
        except Exception as exc:  # noqa: BLE001 - kombu, redis and socket errors alike: retry later
            result.error = f"{type(exc).__name__}: {exc}"
            break
    result.sent = len(sent)
    result.delayed = len(messages) - len(sent)
    with Session(bind=bind) as s, s.begin():
        now = utcnow()
        for message, task_id in sent:
            s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id)
                .values(sent_at=now, task_id=task_id)
            )
            if message.task is OutboxTask.PROCESS and task_id:
                s.execute(
                    update(Job).where(Job.id == message.payload["job_id"]).values(task_id=task_id)
                )
        for message in messages[len(sent) :]:
            s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id)
                .values(attempts=OutboxMessage.attempts + 1, last_error=result.error)
            )
    if result.delayed:
        log.warning(
            "broker unavailable, %d task(s) left in the outbox for later: %s",
            result.delayed,
            result.error,
        )
    return result


def _send(queue: TaskQueue, message: OutboxMessage) -> str | None:
    payload = message.payload
    if message.task is OutboxTask.PROCESS:
        return queue.enqueue_processing(int(payload["version_id"]), int(payload["job_id"]))
    if message.task is OutboxTask.CHORD:
        if not isinstance(queue, ChordQueue):
            raise TypeError(f"{type(queue).__name__} cannot send a chord")
        return queue.enqueue_chord(dict(payload))
    return queue.enqueue_package(int(payload["package_id"]))


def pending_count(session: Session) -> int:
    """Return the number of messages the broker has not accepted yet."""
    unsent = select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))
    return len(session.scalars(unsent).all())
