"""The transition tables of jobs, uploads, release sets and packages, written out literally.

A change to a table in mam/machines.py must change this file too. Every (state, event,
role) combination is tried on a real row: allowed ones move to the target and write one audit
row, all others are refused and change nothing.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from mam.errors import Conflict, NotAllowed
from mam.machines import JOB, PACKAGE, RELEASE, UPLOAD
from mam.models import AuditEvent, Job, JobKind, JobState, Role, utcnow
from mam.models.catalogue import UploadSession, UploadState
from mam.models.release import PackageKind, PackageState, ReleasePackage, ReleaseSet, ReleaseState
from mam.runtime import Runtime, build_runtime
from mam.statemachine import StateMachine
from tests import factories
from tests.conftest import make_settings

SYS, ADM, PUB, PRO = "system", "admin", "publisher", "producer"

# (state, event) -> (target, roles that may fire it, needs a reason)
JOB_TABLE = {
    ("queued", "job_started"): ("running", {SYS}, False),
    ("running", "job_started"): ("running", {SYS}, False),
    ("running", "job_succeeded"): ("succeeded", {SYS}, False),
    ("queued", "job_skipped"): ("skipped", {SYS}, False),
    ("running", "job_skipped"): ("skipped", {SYS}, False),
    ("running", "job_requeued"): ("queued", {SYS}, False),
    ("queued", "job_failed"): ("failed", {SYS}, True),
    ("running", "job_failed"): ("failed", {SYS}, True),
    ("failed", "job_retried"): ("queued", {ADM}, False),
    ("queued", "job_held"): ("waiting", {SYS}, False),
    ("waiting", "job_released"): ("queued", {SYS}, False),
    ("waiting", "job_skipped"): ("skipped", {SYS}, False),
}
UPLOAD_TABLE = {
    ("open", "upload_completed"): ("done", {PRO, ADM}, False),
    ("open", "upload_refused"): ("failed", {PRO, ADM}, True),
    ("open", "upload_cancelled"): ("cancelled", {PRO, ADM}, False),
    ("open", "upload_expired"): ("expired", {SYS}, False),
}
RELEASE_TABLE = {
    ("draft", "release_published"): ("published", {PUB, ADM}, False),
    ("published", "release_withdrawn"): ("withdrawn", {PUB, ADM, SYS}, True),
}
PACKAGE_TABLE = {
    ("queued", "package_build_started"): ("building", {SYS}, False),
    ("building", "package_build_started"): ("building", {SYS}, False),
    ("failed", "package_build_started"): ("building", {SYS}, False),
    ("building", "package_built"): ("ready", {SYS}, False),
    ("building", "package_build_failed"): ("failed", {SYS}, True),
    ("failed", "package_rebuild"): ("queued", {PUB, ADM}, False),
    ("building", "package_rebuild"): ("queued", {PUB, ADM}, False),
    ("queued", "package_rebuild"): ("queued", {PUB, ADM}, False),
    ("building", "package_requeued"): ("queued", {SYS}, False),
}
STATES = {
    "job": ["queued", "running", "succeeded", "skipped", "failed", "waiting"],
    "upload": ["open", "done", "failed", "expired", "cancelled"],
    "release_set": ["draft", "published", "withdrawn"],
    "package": ["queued", "building", "ready", "failed"],
}
MACHINES: dict[str, tuple[StateMachine[Any, Any], dict[tuple[str, str], Any]]] = {
    "job": (JOB, JOB_TABLE),
    "upload": (UPLOAD, UPLOAD_TABLE),
    "release_set": (RELEASE, RELEASE_TABLE),
    "package": (PACKAGE, PACKAGE_TABLE),
}
STATE_ENUMS: dict[str, Any] = {
    "job": JobState, "upload": UploadState, "release_set": ReleaseState, "package": PackageState,
}  # fmt: skip
ACTORS = [None, *[r for r in Role if r is not Role.SYSTEM]]  # None = the system


def _as_text(machine: StateMachine[Any, Any]) -> dict[tuple[str, str], Any]:
    return {
        (state.value, event.value): (
            rule.target.value,
            {r.value for r in rule.roles},
            rule.needs_reason,
        )
        for (state, event), rule in machine.table.items()
    }


@pytest.mark.parametrize("name", list(MACHINES))
def test_the_table_is_what_this_file_says(name: str) -> None:
    machine, table = MACHINES[name]
    assert _as_text(machine) == table
    assert machine.object_type.value == name


def test_the_states_are_what_this_file_says() -> None:
    assert [s.value for s in JobState] == STATES["job"]
    assert [s.value for s in UploadState] == STATES["upload"]
    assert [s.value for s in ReleaseState] == STATES["release_set"]
    assert [s.value for s in PackageState] == STATES["package"]


def _row(session: Session, kind: str, state: str) -> Any:
    """Create a row of ``kind`` in ``state`` (tests may set a state directly)."""
    if kind == "job":
        v = factories.version(session)
        row: Any = Job(version_id=v.id, kind=JobKind.PROCESS, state=JobState(state))
    elif kind == "upload":
        owner = factories.user(session, Role.PRODUCER)
        row = UploadSession(
            id=uuid.uuid4().hex, user_id=owner.id, filename="a.mp4", length=10,
            state=UploadState(state), expires_at=utcnow() + timedelta(days=1),
        )  # fmt: skip
    elif kind == "release_set":
        row = ReleaseSet(name=f"2026年第{uuid.uuid4().hex[:6]}期", state=ReleaseState(state))
    else:
        release = ReleaseSet(name=f"2026年第{uuid.uuid4().hex[:6]}期", state=ReleaseState.PUBLISHED)
        row = ReleasePackage(release=release, kind=PackageKind.TV, state=PackageState(state))
    session.add(row)
    session.flush()
    return row


def _cases() -> list[tuple[str, str, str, Role | None]]:
    return [
        (name, state, event, actor)
        for name, (machine, _table) in MACHINES.items()
        for state, event, actor in itertools.product(
            STATES[name], sorted({e for _s, e in MACHINES[name][1]}), ACTORS
        )
    ]


@pytest.mark.parametrize(("name", "state", "event", "role"), _cases())
def test_every_state_event_role(
    session: Session, name: str, state: str, event: str, role: Role | None
) -> None:
    machine, table = MACHINES[name]
    row = _row(session, name, state)
    actor = None if role is None else factories.user(session, role)
    event_member = next(e for (_s, e) in machine.table if e.value == event)
    expected = table.get((state, event))
    who = SYS if role is None else role.value
    if expected is None or who not in expected[1]:
        with pytest.raises(NotAllowed):
            machine.fire(session, row, event_member, actor, reason="because")
        assert row.state.value == state
        return
    before = row.lock_version
    audit = machine.fire(session, row, event_member, actor, reason="because")
    session.flush()
    assert row.state.value == expected[0]
    assert row.lock_version == before + 1  # a real UPDATE, even when the state stays
    assert (audit.action, audit.object_type) == (event, name)
    assert (audit.from_state, audit.to_state, audit.reason) == (state, expected[0], "because")
    assert audit.actor_id == (actor.id if actor else None)


@pytest.mark.parametrize(
    ("name", "state", "event"),
    [(n, s, e) for n, (_m, t) in MACHINES.items() for (s, e), rule in t.items() if rule[2]],
)
def test_a_reason_is_required_where_the_table_says(
    session: Session, name: str, state: str, event: str
) -> None:
    machine, table = MACHINES[name]
    row = _row(session, name, state)
    role = next(iter(table[(state, event)][1]))
    actor = None if role == SYS else factories.user(session, Role(role))
    event_member = next(e for (_s, e) in machine.table if e.value == event)
    with pytest.raises(NotAllowed, match="needs a reason"):
        machine.fire(session, row, event_member, actor, reason="  ")
    assert row.state.value == state


@pytest.mark.parametrize(
    ("name", "state", "roles", "events"),
    [
        ("release_set", "draft", {Role.PUBLISHER}, ["release_published"]),
        ("release_set", "published", {Role.ADMIN}, ["release_withdrawn"]),
        ("release_set", "published", {Role.COUNTY}, []),
        ("package", "failed", {Role.PUBLISHER}, ["package_rebuild"]),
        ("package", "ready", {Role.PUBLISHER}, []),
        ("job", "failed", {Role.ADMIN}, ["job_retried"]),
        ("job", "failed", {Role.PRODUCER}, []),
        ("upload", "open", {Role.PRODUCER}, ["upload_completed", "upload_refused",
                                             "upload_cancelled"]),
    ],
)  # fmt: skip
def test_allowed_events_are_the_buttons(
    name: str, state: str, roles: set[Role], events: list[str]
) -> None:
    machine, _table = MACHINES[name]
    state_member = STATE_ENUMS[name](state)
    assert [e.value for e in machine.allowed_events(state_member, frozenset(roles))] == events


def test_a_stale_page_is_refused_before_anything_is_written(session: Session) -> None:
    release = _row(session, "release_set", "draft")
    publisher = factories.user(session, Role.PUBLISHER)
    with pytest.raises(Conflict, match="changed by someone else"):
        RELEASE.fire(
            session, release, next(iter(RELEASE.table))[1], publisher,
            expected_lock_version=release.lock_version - 1,
        )  # fmt: skip
    assert release.state is ReleaseState.DRAFT


@pytest.fixture
def pg_runtime(pg_url: str, home: Path) -> Iterator[Runtime]:
    rt = build_runtime(make_settings(home, database_url=pg_url))
    yield rt
    rt.close()


@pytest.mark.postgres
@pytest.mark.parametrize("name", ["job", "package", "upload"])
def test_of_two_actors_racing_on_one_row_exactly_one_wins(pg_runtime: Runtime, name: str) -> None:
    """Two sessions read the same row; the second to write is refused at flush (on
    PostgreSQL: SQLite lets only one transaction read for writing at a time)."""
    runtime = pg_runtime
    machine, table = MACHINES[name]
    (state, event), (_target, roles, _reason) = next(iter(table.items()))
    with runtime.db.session() as setup:
        row = _row(setup, name, state)
        setup.commit()
        ident = row.id
    model = type(row)
    event_member = next(e for (s, e) in machine.table if e.value == event)
    with runtime.db.session() as first, runtime.db.session() as second:
        actors = []
        for s in (first, second):
            role = next(iter(roles))
            actors.append(None if role == SYS else factories.user(s, Role(role)))
            s.commit()
        mine, theirs = first.get_one(model, ident), second.get_one(model, ident)
        machine.fire(first, mine, event_member, actors[0], reason="first")
        first.commit()
        machine.fire(second, theirs, event_member, actors[1], reason="second")
        with pytest.raises(StaleDataError):
            second.commit()
        second.rollback()
    with runtime.db.session() as check:
        reasons = check.scalars(
            select(AuditEvent.reason).where(AuditEvent.object_type == name)
        ).all()
        assert reasons == ["first"]
