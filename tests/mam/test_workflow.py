from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from mam.errors import NotAllowed
from mam.models import AuditEvent, Role, Version, VersionState
from mam.runtime import Runtime
from mam.workflow import TRANSITIONS, Event, allowed_events, transition
from tests import factories

ACTOR_ROLES = [None, *[r for r in Role if r is not Role.SYSTEM]]  # None = the system


@pytest.mark.parametrize(
    ("state", "event", "role"), list(itertools.product(VersionState, Event, ACTOR_ROLES))
)
def test_every_state_event_role(
    session: Session, state: VersionState, event: Event, role: Role | None
) -> None:
    """Exhaustive: allowed combinations move to the table's target, all others raise."""
    v = factories.version(session, state)
    actor = None if role is None else factories.user(session, role)
    rule = TRANSITIONS.get((state, event))
    effective = Role.SYSTEM if role is None else role
    if rule is None or effective not in rule.roles:
        with pytest.raises(NotAllowed):
            transition(session, v, event, actor, reason="because")
        assert v.state == state
        return
    audit = transition(session, v, event, actor, reason="because")
    session.flush()
    assert v.state == rule.target
    assert (audit.from_state, audit.to_state) == (state.value, rule.target.value)
    assert audit.actor_id == (actor.id if actor else None)


def test_reason_required_where_the_table_says(session: Session) -> None:
    v = factories.version(session, VersionState.PROCESSING)
    with pytest.raises(NotAllowed, match="needs a reason"):
        transition(session, v, Event.PROCESSING_FAILED, None, reason="   ")
    transition(session, v, Event.PROCESSING_FAILED, None, reason="moov atom not found")
    assert v.state == VersionState.FAILED
    assert v.failure_reason == "moov atom not found"


def test_every_transition_is_audited(session: Session) -> None:
    v = factories.version(session)
    transition(session, v, Event.START_PROCESSING, None)
    transition(session, v, Event.PROCESSING_SUCCEEDED, None)
    session.commit()
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == v.id).order_by(AuditEvent.id)
    ).all()
    assert [(r.from_state, r.to_state) for r in rows] == [
        ("uploaded", "processing"),
        ("processing", "ready"),
    ]


def test_audit_rows_cannot_be_changed(session: Session) -> None:
    v = factories.version(session)
    audit = transition(session, v, Event.START_PROCESSING, None)
    session.commit()
    audit.reason = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        session.commit()
    session.rollback()
    session.delete(audit)
    with pytest.raises(RuntimeError, match="append-only"):
        session.commit()
    session.rollback()


def test_buttons_follow_the_table() -> None:
    assert allowed_events(VersionState.READY, frozenset({Role.PRODUCER})) == [Event.SUBMIT]
    assert allowed_events(VersionState.READY, frozenset({Role.REVIEWER})) == []
    assert set(allowed_events(VersionState.IN_REVIEW, frozenset({Role.REVIEWER}))) == {
        Event.SIGN_STAGE,
        Event.APPROVE,
        Event.REQUEST_CHANGES,
    }


def test_concurrent_transitions_one_wins(runtime: Runtime) -> None:
    """Two sessions read the same version, both move it: the later commit is refused."""
    with runtime.db.session() as s:
        vid = factories.version(s, VersionState.PROCESSING).id
        s.commit()
    with runtime.db.session() as a, runtime.db.session() as b:
        va = a.get_one(Version, vid)
        a.commit()  # both hold the row as read at lock_version 1 (objects are not expired)
        vb = b.get_one(Version, vid)
        b.commit()
        transition(a, va, Event.PROCESSING_SUCCEEDED, None)
        a.commit()
        transition(b, vb, Event.PROCESSING_FAILED, None, reason="x")
        with pytest.raises(StaleDataError):
            b.commit()
        b.rollback()  # the loser's unit of work ends in a rollback
    with runtime.db.session() as s:
        assert s.get_one(Version, vid).state == VersionState.READY


P, R, PUB, A, SYS = Role.PRODUCER, Role.REVIEWER, Role.PUBLISHER, Role.ADMIN, Role.SYSTEM
S = VersionState
# The table as docs/architecture.md states it, written out: changing TRANSITIONS changes this.
EXPECTED = {
    (S.UPLOADED, Event.START_PROCESSING): (S.PROCESSING, {SYS}),
    (S.PROCESSING, Event.START_PROCESSING): (S.PROCESSING, {SYS}),
    (S.PROCESSING, Event.PROCESSING_SUCCEEDED): (S.READY, {SYS}),
    (S.PROCESSING, Event.PROCESSING_FAILED): (S.FAILED, {SYS}),
    (S.FAILED, Event.RETRY_PROCESSING): (S.PROCESSING, {A, SYS}),
    (S.READY, Event.SUBMIT): (S.IN_REVIEW, {P, A}),
    (S.IN_REVIEW, Event.SIGN_STAGE): (S.IN_REVIEW, {R}),
    (S.IN_REVIEW, Event.APPROVE): (S.APPROVED, {R}),
    (S.IN_REVIEW, Event.REQUEST_CHANGES): (S.CHANGES_REQUESTED, {R}),
    (S.APPROVED, Event.RELEASE): (S.RELEASED, {PUB, A}),
    (S.RELEASED, Event.WITHDRAW): (S.WITHDRAWN, {PUB, A, SYS}),
    (S.READY, Event.SUPERSEDE): (S.SUPERSEDED, {SYS}),
    (S.IN_REVIEW, Event.SUPERSEDE): (S.SUPERSEDED, {SYS}),
    (S.CHANGES_REQUESTED, Event.SUPERSEDE): (S.SUPERSEDED, {SYS}),
    (S.APPROVED, Event.SUPERSEDE): (S.SUPERSEDED, {SYS}),
}


def test_the_table_is_the_designed_one() -> None:
    """Only a ready version is submitted; only reviewers approve; rejections need reasons."""
    assert {k: (r.target, set(r.roles)) for k, r in TRANSITIONS.items()} == EXPECTED
    needs_reason = {k for k, r in TRANSITIONS.items() if r.needs_reason}
    assert needs_reason == {
        (S.PROCESSING, Event.PROCESSING_FAILED),
        (S.IN_REVIEW, Event.REQUEST_CHANGES),
        (S.RELEASED, Event.WITHDRAW),
    }


@pytest.mark.parametrize("event", [Event.SIGN_STAGE, Event.APPROVE])
def test_nobody_signs_their_own_upload_even_through_transition(
    session: Session, event: Event
) -> None:
    v = factories.version(session, VersionState.IN_REVIEW)
    uploader = factories.user(session, Role.REVIEWER, Role.PRODUCER)
    v.uploaded_by_id = uploader.id
    with pytest.raises(NotAllowed, match="uploaded"):
        transition(session, v, event, uploader)
    assert v.state == VersionState.IN_REVIEW


def test_a_signed_stage_bumps_the_lock_counter(session: Session) -> None:
    """Signing keeps the state but must still race-protect the row."""
    v = factories.version(session, VersionState.IN_REVIEW)
    session.commit()
    before = v.lock_version
    transition(session, v, Event.SIGN_STAGE, factories.user(session, Role.REVIEWER))
    session.commit()
    assert v.lock_version == before + 1


def test_a_stale_page_is_a_conflict(session: Session) -> None:
    from mam.errors import Conflict

    v = factories.version(session, VersionState.READY)
    session.commit()
    with pytest.raises(Conflict, match="reload"):
        transition(
            session,
            v,
            Event.SUBMIT,
            factories.user(session, Role.PRODUCER),
            expected_lock_version=v.lock_version - 1,
        )
    assert v.state == VersionState.READY
