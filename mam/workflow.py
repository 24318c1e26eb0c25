"""The version workflow: its transition table, and ``transition()`` which applies it (through
:class:`mam.statemachine.StateMachine`, the one mechanism every stateful model shares)."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy.orm import Session

from mam.audit import ObjectType
from mam.errors import NotAllowed
from mam.i18n import N_
from mam.models import AuditEvent, Role, User, Version, VersionState, utcnow
from mam.statemachine import Rule, StateMachine, rule

S = VersionState


class Event(enum.StrEnum):
    START_PROCESSING = "start_processing"
    PROCESSING_SUCCEEDED = "processing_succeeded"
    PROCESSING_FAILED = "processing_failed"
    RETRY_PROCESSING = "retry_processing"
    SUBMIT = "submit"
    SIGN_STAGE = "sign_stage"  # an intermediate review stage signed; stays in review
    APPROVE = "approve"  # the last stage signed
    REQUEST_CHANGES = "request_changes"
    RELEASE = "release"
    WITHDRAW = "withdraw"
    SUPERSEDE = "supersede"  # a newer version of the episode arrived before this was released


def _rule(target: VersionState, *roles: Role, needs_reason: bool = False) -> Rule[VersionState]:
    return rule(target, *roles, needs_reason=needs_reason)


SYSTEM = Role.SYSTEM
ADMIN = Role.ADMIN

# (from state, event) -> rule. Anything absent is not allowed, whoever asks.
TRANSITIONS: dict[tuple[VersionState, Event], Rule[VersionState]] = {
    (S.UPLOADED, Event.START_PROCESSING): _rule(S.PROCESSING, SYSTEM),
    # A redelivered task (worker lost mid-job) starts again from processing.
    (S.PROCESSING, Event.START_PROCESSING): _rule(S.PROCESSING, SYSTEM),
    (S.PROCESSING, Event.PROCESSING_SUCCEEDED): _rule(S.READY, SYSTEM),
    (S.PROCESSING, Event.PROCESSING_FAILED): _rule(S.FAILED, SYSTEM, needs_reason=True),
    (S.FAILED, Event.RETRY_PROCESSING): _rule(S.PROCESSING, ADMIN, SYSTEM),
    (S.READY, Event.SUBMIT): _rule(S.IN_REVIEW, Role.PRODUCER, ADMIN),
    # A version sent back stays so: the producer answers with a new version, not a resubmit.
    (S.IN_REVIEW, Event.SIGN_STAGE): _rule(S.IN_REVIEW, Role.REVIEWER),
    (S.IN_REVIEW, Event.APPROVE): _rule(S.APPROVED, Role.REVIEWER),
    (S.IN_REVIEW, Event.REQUEST_CHANGES): _rule(
        S.CHANGES_REQUESTED, Role.REVIEWER, needs_reason=True
    ),
    (S.APPROVED, Event.RELEASE): _rule(S.RELEASED, Role.PUBLISHER, ADMIN),
    (S.RELEASED, Event.WITHDRAW): _rule(S.WITHDRAWN, Role.PUBLISHER, ADMIN, needs_reason=True),
    **{
        (state, Event.SUPERSEDE): _rule(S.SUPERSEDED, SYSTEM)
        for state in (S.READY, S.IN_REVIEW, S.CHANGES_REQUESTED, S.APPROVED)
    },
}
# Signing a stage is an approval: nobody signs a version they uploaded themselves.
SELF_APPROVAL_EVENTS = frozenset({Event.SIGN_STAGE, Event.APPROVE})


VERSION: StateMachine[VersionState, Event] = StateMachine(ObjectType.VERSION, TRANSITIONS)


def allowed_events(state: VersionState, roles: frozenset[Role]) -> list[Event]:
    """List the events ``roles`` may fire from ``state`` (for showing buttons)."""
    return VERSION.allowed_events(state, roles)


def transition(
    session: Session,
    version: Version,
    event: Event,
    actor: User | None,
    *,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    expected_lock_version: int | None = None,
) -> AuditEvent:
    """Move ``version`` by ``event`` and record who, when, from, to and why.

    ``actor`` None means the system (a worker). The caller commits; the version's
    ``lock_version`` makes a concurrent transition on the same row fail at flush, and
    ``expected_lock_version`` (what the actor's page showed) refuses a stale request early.
    """
    VERSION.check(
        version, event, actor, reason=reason, expected_lock_version=expected_lock_version
    )
    if (
        event in SELF_APPROVAL_EVENTS
        and actor is not None
        and version.uploaded_by_id is not None
        and actor.id == version.uploaded_by_id
    ):
        raise NotAllowed(
            N_("nobody may approve a version they uploaded (version %(id)s)"),
            params={"id": version.id},
            rule="own_upload",
        )
    reason = (reason or "").strip() or None
    # Always a real UPDATE, even when the state stays (a signed intermediate stage), so the
    # optimistic counter is checked and bumped.
    version.updated_at = utcnow()
    if event is Event.PROCESSING_FAILED:
        version.failure_reason = reason
    elif TRANSITIONS[(version.state, event)].target is S.PROCESSING:
        version.failure_reason = None
    return VERSION.fire(session, version, event, actor, reason=reason, details=details)
