"""Online learning services on SQLite and PostgreSQL: what a learner may watch, heartbeats
bounded by the segments served and by the clock, completion at 90 %, study figures."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mam.errors import InvalidInput, NotFound
from mam.models import AuditEvent, utcnow
from mam.models.catalogue import episode_topic
from mam.models.learning import StudyDay, StudyRecord
from mam.services import metadata
from mam.services.study import StudyService
from mam.services.study_reports import Month, StudyReports
from tests.mam.learning_world import LearningWorld, build


@pytest.fixture
def world(db_session: Session) -> LearningWorld:
    return build(db_session)


def titles(items: list) -> set[str]:  # type: ignore[type-arg]
    return {i.episode.title for i in items}


def test_a_learner_sees_only_films_published_to_their_county_with_a_ladder(
    db_session: Session, world: LearningWorld
) -> None:
    study = StudyService(db_session)
    assert titles(study.playable(world.c1)) == {"乡村振兴 第1集", "全县通发"}
    assert titles(study.playable(world.c2)) == {"全县通发", "乙县专供"}
    expected = {  # (learner, version) -> may stream
        ("learner1", "shown"): True,
        ("learner1", "everywhere"): True,
        ("learner1", "no_ladder"): False,
        ("learner1", "draft"): False,
        ("learner1", "withdrawn"): False,
        ("learner1", "other"): False,
        ("learner2", "shown"): False,
        ("learner2", "other"): True,
        ("staff1", "shown"): False,  # county staff are not learners
    }
    for (who, what), allowed in expected.items():
        user, version = getattr(world, who), getattr(world, what)
        assert study.may_stream(user, version.id) is allowed, (who, what)
    with pytest.raises(NotFound):
        study.episode_for(world.learner2, world.shown.episode_id)
    with pytest.raises(NotFound):
        study.open(world.learner1, world.draft.episode_id)


def test_a_heartbeat_is_capped_by_the_seconds_served(
    db_session: Session, world: LearningWorld
) -> None:
    study = StudyService(db_session)
    learner, version = world.learner1, world.shown
    record = study.open(learner, version.episode_id)
    record.started_at = utcnow() - timedelta(seconds=300)  # five minutes of wall clock
    record = study.heartbeat(learner, version.episode_id, position=50, watched=50)
    assert record.watched_seconds == 0.0  # nothing was served: nothing is credited
    assert record.position == 50
    assert study.note_segment(learner, version.id, 0, 6.0, None) is True
    assert study.note_segment(learner, version.id, 0, 6.0, None) is False  # other rung
    assert study.note_segment(learner, version.id, 1, 6.0, None) is True
    record.credit_clock = utcnow() - timedelta(seconds=60)
    record = study.heartbeat(learner, version.episode_id, position=50, watched=50)
    assert record.watched_seconds == pytest.approx(12.0)
    assert study.served_seconds(learner.id, version.id) == pytest.approx(12.0)
    # Another learner's segments do not raise this learner's ceiling.
    study.note_segment(world.learner2, version.id, 2, 6.0, None)
    record.credit_clock = utcnow() - timedelta(seconds=60)
    record = study.heartbeat(learner, version.episode_id, position=60, watched=30)
    assert record.watched_seconds == pytest.approx(12.0)


def test_a_heartbeat_is_capped_by_the_wall_clock_and_completes_at_90_percent(
    db_session: Session, world: LearningWorld
) -> None:
    study = StudyService(db_session)
    learner, version = world.learner1, world.shown
    for n in range(17):  # the whole film: 16 × 6 s + 4 s
        study.note_segment(learner, version.id, n, 6.0 if n < 16 else 4.0, None)
    record = study.open(learner, version.episode_id)
    record = study.heartbeat(learner, version.episode_id, position=100, watched=100)
    assert record.watched_seconds < 1.0  # a fresh page cannot claim 100 s at once
    assert not record.completed
    record.credit_clock = utcnow() - timedelta(seconds=85)
    record = study.heartbeat(learner, version.episode_id, position=89, watched=86)
    assert record.watched_seconds < 90 and not record.completed
    record.credit_clock = utcnow() - timedelta(seconds=30)
    record = study.heartbeat(learner, version.episode_id, position=100, watched=30)
    assert record.watched_seconds == pytest.approx(100.0)  # never beyond the film
    assert record.completed
    db_session.commit()
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "study_completed")
    ).all()
    assert [(e.actor_id, e.object_id) for e in events] == [(learner.id, version.episode_id)]
    days = db_session.scalars(select(StudyDay)).all()
    assert sum(d.seconds for d in days) == pytest.approx(100.0)
    assert StudyService.resume_at(record) == 0.0  # at the end: start over next time


def test_a_burst_of_heartbeats_banks_no_time(db_session: Session, world: LearningWorld) -> None:
    study = StudyService(db_session)
    learner, version = world.learner1, world.shown
    for n in range(17):
        study.note_segment(learner, version.id, n, 6.0 if n < 16 else 4.0, None)
    record = study.open(learner, version.episode_id)
    record.started_at = utcnow() - timedelta(seconds=10)  # the page has been open for 10 s
    began = time.monotonic()
    for _ in range(50):  # a script sends 50 heartbeats of 6 s each at once
        record = study.heartbeat(learner, version.episode_id, position=6, watched=6)
    spent = time.monotonic() - began  # real time the burst itself took (a loaded machine)
    # 6 s, then the 3 s of unused time that carry over: 9 s of 10 s real time, not 300 s.
    assert 9.0 <= record.watched_seconds < 10.5 + spent
    # Idle time is not banked either: after an hour away only real playing counts.
    record.credit_clock = utcnow() - timedelta(seconds=3600)
    before = record.watched_seconds
    record = study.heartbeat(learner, version.episode_id, position=7, watched=1)
    assert record.watched_seconds == pytest.approx(before + 1)
    record = study.heartbeat(learner, version.episode_id, position=90, watched=80)
    assert record.watched_seconds < before + 1 + 3.5  # the hour away was forfeited


@pytest.mark.parametrize("bad", ["nan", "inf", -1, "abc", None])
def test_a_heartbeat_with_a_nonsense_number_is_refused(
    db_session: Session, world: LearningWorld, bad: object
) -> None:
    study = StudyService(db_session)
    with pytest.raises(InvalidInput):
        study.heartbeat(world.learner1, world.shown.episode_id, position=1, watched=bad)
    with pytest.raises(InvalidInput):
        study.heartbeat(world.learner1, world.shown.episode_id, position=bad, watched=1)


def test_study_figures_per_learner_county_and_month(
    db_session: Session, world: LearningWorld
) -> None:
    study = StudyService(db_session)
    for learner, version, seconds in (
        (world.learner1, world.shown, 36.0),
        (world.learner1, world.everywhere, 60.0),
        (world.learner2, world.everywhere, 30.0),
    ):
        study.note_segment(learner, version.id, 0, seconds, None)
        record = study.open(learner, version.episode_id)
        record.started_at = utcnow() - timedelta(seconds=600)
        study.heartbeat(learner, version.episode_id, position=seconds, watched=seconds)
    db_session.commit()
    reports = StudyReports(db_session)
    rows = {r.learner.phone: (round(r.totals.seconds), r.totals.completions)
            for r in reports.learners(world.c1)}  # fmt: skip
    assert rows == {"13800000001": (96, 1)}  # the 60 s film is complete, the other not
    counties = {c.county.code: (c.learners, c.active_learners, round(c.totals.seconds),
                                c.totals.completions) for c in reports.counties()}  # fmt: skip
    assert counties == {"c1": (1, 1, 96, 1), "c2": (1, 1, 30, 0)}
    this_month = Month.of(utcnow().date())
    assert round(reports.learner(world.learner1.id, this_month).seconds) == 96
    assert reports.monthly() == {this_month: reports.monthly()[this_month]}
    assert round(reports.monthly()[this_month].seconds) == 126
    last_year = Month(this_month.year - 1, this_month.month)
    assert reports.learner(world.learner1.id, last_year).seconds == 0
    assert [r.totals.seconds for r in reports.learners(world.c1, last_year)] == [0.0]
    assert {k: round(v.seconds) for k, v in reports.by_point(world.c1).items()} == {None: 96}


def test_services_leave_the_commit_to_the_caller(db_session: Session, world: LearningWorld) -> None:
    study = StudyService(db_session)
    study.note_segment(world.learner1, world.shown.id, 0, 6.0, None)
    study.open(world.learner1, world.shown.episode_id)
    db_session.rollback()
    assert db_session.scalars(select(StudyRecord)).all() == []
    assert study.served_seconds(world.learner1.id, world.shown.id) == 0.0


def test_month_parsing() -> None:
    assert str(Month.parse("2026-12")) == "2026-12"
    assert Month.parse("2026-12").after.isoformat() == "2027-01-01"
    for bad in ("2026-13", "2026", "x-y"):
        with pytest.raises(ValueError):
            Month.parse(bad)


def test_films_by_topic(db_session: Session, world: LearningWorld) -> None:
    topics = {t.name: t for t in metadata.ensure_topics(db_session)}
    for episode_id, names in (
        (world.shown.episode_id, ["党的建设", "先进典型"]),
        (world.other.episode_id, ["警示教育"]),
    ):
        db_session.execute(
            insert(episode_topic),
            [{"episode_id": episode_id, "topic_id": topics[n].id} for n in names],
        )
    study = StudyService(db_session)
    assert [t.name for t in study.topics_for(world.c1)] == ["党的建设", "先进典型"]
    assert titles(study.playable(world.c1, topic_id=topics["党的建设"].id)) == {"乡村振兴 第1集"}
    assert titles(study.playable(world.c1, topic_id=topics["警示教育"].id)) == set()
    shown = next(p for p in study.playable(world.c1) if p.episode.id == world.shown.episode_id)
    assert shown.topics == ("党的建设", "先进典型") and shown.duration == 100.0
