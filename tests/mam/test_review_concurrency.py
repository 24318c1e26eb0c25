"""Two reviewers approve the same version at the same moment on PostgreSQL: one wins."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from mam.errors import Conflict, InvalidInput, MamError
from mam.models import AuditEvent, User, Version, VersionState
from mam.models.review import ReviewDecision
from mam.runtime import Runtime, build_runtime
from mam.services.review import ReviewService
from tests import factories
from tests.conftest import make_settings
from tests.mam.review_helpers import make_world

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_runtime(pg_url: str, home: Path) -> Iterator[Runtime]:
    rt = build_runtime(make_settings(home, database_url=pg_url))
    yield rt
    rt.close()


def _meet_before_writing(session: Session, barrier: threading.Barrier) -> None:
    """Hold each session at its first flush until both have read the version."""
    done = False

    @event.listens_for(session, "before_flush")
    def wait(_s: Any, _ctx: Any, _instances: Any) -> None:
        nonlocal done
        if not done and (session.new or session.dirty):
            done = True
            barrier.wait(timeout=30)


def test_two_threads_approving_one_version_exactly_one_wins(pg_runtime: Runtime) -> None:
    with pg_runtime.db.session() as s:
        world = make_world(s)
        second = factories.user(s, *world.final.roles)
        ReviewService(s).set_grants(second, ["终审"])
        v = world.in_review()
        world.sign(v, world.first)
        final_id, shown = world.shown_stage(v), v.lock_version
        vid, reviewers = v.id, [world.final.id, second.id]
        s.commit()

    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def approve(user_id: int) -> None:
        with pg_runtime.db.session() as session:
            user = session.get_one(User, user_id)
            _meet_before_writing(session, barrier)
            try:
                ReviewService(session).sign(
                    vid, user, stage_id=final_id, expected_lock_version=shown
                )
                outcomes[user_id] = "approved"
            except Conflict as exc:
                outcomes[user_id] = exc.message

    threads = [threading.Thread(target=approve, args=(uid,)) for uid in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    results = sorted(outcomes.values())
    assert results.count("approved") == 1, outcomes
    loser = next(m for m in results if m != "approved")
    assert "at the same moment" in loser and "reload" in loser  # the race, not a stale page
    with pg_runtime.db.session() as s:
        assert s.get_one(Version, vid).state is VersionState.APPROVED
        assert s.scalar(select(func.count()).where(AuditEvent.action == "approve")) == 1
        signed = s.scalars(select(ReviewDecision).where(ReviewDecision.version_id == vid)).all()
        assert len(signed) == 2  # 初审 + the one winning 终审


def test_three_signatures_without_stage_and_lock_version_are_all_refused(
    pg_runtime: Runtime,
) -> None:
    """The reported race: 初审 and 终审 signed at once by requests that named no stage."""
    with pg_runtime.db.session() as s:
        world = make_world(s)
        both = factories.user(s, *world.first.roles)
        ReviewService(s).set_grants(both, ["初审", "终审"])
        v = world.in_review()
        vid, reviewers = v.id, [world.first.id, both.id, world.final.id]
        s.commit()

    outcomes: dict[int, MamError | str] = {}

    def sign(user_id: int) -> None:
        with pg_runtime.db.session() as session:
            user = session.get_one(User, user_id)
            try:
                ReviewService(session).sign(vid, user, stage_id=None, expected_lock_version=None)
                outcomes[user_id] = "signed"
            except MamError as exc:
                outcomes[user_id] = exc

    threads = [threading.Thread(target=sign, args=(uid,)) for uid in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert len(outcomes) == 3
    for outcome in outcomes.values():
        assert isinstance(outcome, InvalidInput), outcomes
        assert outcome.http_status == 400 and "lock_version" in outcome.message
    with pg_runtime.db.session() as s:
        assert s.get_one(Version, vid).state is VersionState.IN_REVIEW
        signed = s.scalars(select(ReviewDecision).where(ReviewDecision.version_id == vid)).all()
        assert signed == []


def test_a_signature_aimed_at_the_first_stage_never_approves(pg_runtime: Runtime) -> None:
    """Two reviewers aim at 初审 from the same page; the second is not moved on to 终审."""
    with pg_runtime.db.session() as s:
        world = make_world(s)
        both = factories.user(s, *world.first.roles)
        ReviewService(s).set_grants(both, ["初审", "终审"])
        v = world.in_review()
        first_stage, shown = world.shown_stage(v), v.lock_version
        world.sign(v, world.first, stage_id=first_stage, expected_lock_version=shown)
        with pytest.raises(Conflict, match="reload"):
            ReviewService(s).sign(v.id, both, stage_id=first_stage, expected_lock_version=shown)
        s.expire_all()
        assert s.get_one(Version, v.id).state is VersionState.IN_REVIEW
