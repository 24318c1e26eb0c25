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
    with runtime.db.session() as s:
        assert s.get_one(Version, vid).state == VersionState.READY
