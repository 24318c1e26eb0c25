"""Learners tied to playback points; county staff edit, deactivate and reactivate them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mam.errors import Conflict, InvalidInput, NotAllowed, NotFound
from mam.models import AuditEvent
from mam.models.learning import Learner, StudyDay, StudyRecord
from mam.services.learners import LearnerService, read_sheet
from mam.services.network import NetworkService
from mam.services.study_reports import point_study
from mam.services.users import UserService
from tests.network_world import World, build


@pytest.fixture
def world(db: Session) -> World:
    return build(db)


def test_a_learners_point_must_be_an_active_point_of_their_county(
    db: Session, world: World
) -> None:
    service = LearnerService(db)
    with pytest.raises(InvalidInput, match="learner's county"):  # a point of county b
        service.create(world.a.id, "王一", "13800000001", None, world.county_a, world.pb.id)
    with pytest.raises(InvalidInput, match="learner's county"):  # no such point
        service.create(world.a.id, "王一", "13800000001", None, world.county_a, 99999)
    made = service.create(world.a.id, "王一", "13800000001", None, world.county_a, world.p1.id)
    db.commit()
    assert made.learner.point_id == world.p1.id and made.learner.point.name == "东村播放点"
    sheet = "姓名,手机号,网点\n李二,13800000002,河口村播放点\n张三,13800000003,乙村播放点\n"
    rows = service.check(read_sheet(sheet.encode(), "a.csv"), world.a.id)
    assert [(r.point_id, [t % p for t, p in r.problems]) for r in rows] == [
        (world.p3.id, []),
        (None, ["The county has no active playback point named 乙村播放点."]),
    ]
    created = service.import_rows(world.a.id, rows[:1], world.county_a)
    assert created[0].learner.point_id == world.p3.id


def test_the_database_refuses_a_point_that_does_not_exist(db: Session, world: World) -> None:
    made = LearnerService(db).create(world.a.id, "王一", "13800000001", None, world.county_a)
    db.commit()
    made.learner.point_id = 99999
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_a_point_with_learners_is_not_deleted(db: Session, world: World) -> None:
    point = world.pb  # nothing else refers to it
    LearnerService(db).create(world.b.id, "王一", "13800000001", None, world.county_b, point.id)
    db.commit()
    with pytest.raises(Conflict, match="deactivate it instead"):
        NetworkService(db, world.county_b).delete_point(point)


def test_staff_edit_a_learner_and_it_is_audited(db: Session, world: World) -> None:
    service = LearnerService(db)
    made = service.create(world.a.id, "王一", "13800000001", "长长的初始密码一二三", world.county_a)
    other = service.create(world.a.id, "李二", "13800000002", None, world.county_a)
    db.commit()
    lid = made.learner.id
    with pytest.raises(Conflict, match="13800000002 exists"):
        service.update(lid, world.county_a, name="王一", phone="13800000002", point_id=None)
    with pytest.raises(InvalidInput, match="11-digit"):
        service.update(lid, world.county_a, name="王一", phone="12345", point_id=None)
    with pytest.raises(InvalidInput, match="learner's county"):
        service.update(lid, world.county_a, name="王一", phone="13800000001", point_id=world.pb.id)
    db.rollback()
    service.update(lid, world.county_a, name="王一一", phone="13900000009", point_id=world.p2.id)
    db.commit()
    learner = db.get(Learner, lid)
    assert learner is not None and other.learner.phone == "13800000002"
    assert (learner.user.display_name, learner.user.username, learner.phone, learner.point_id) == (
        "王一一", "13900000009", "13900000009", world.p2.id,
    )  # fmt: skip
    users = UserService(db)
    assert users.authenticate("13900000009", "长长的初始密码一二三") is not None
    assert users.authenticate("13800000001", "长长的初始密码一二三") is None
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "learner_updated")).one()
    assert event.details == {
        "name": ["王一", "王一一"],
        "phone": ["13800000001", "13900000009"],
        "point_id": [None, world.p2.id],
    }


def test_deactivated_learners_cannot_sign_in_until_reactivated(db: Session, world: World) -> None:
    service = LearnerService(db)
    made = service.create(world.a.id, "王一", "13800000001", "长长的初始密码一二三", world.county_a)
    db.commit()
    service.set_active(made.learner.id, world.county_a, active=False)
    db.commit()
    users = UserService(db)
    assert users.authenticate("13800000001", "长长的初始密码一二三") is None
    assert users.deactivated("13800000001", "长长的初始密码一二三") == made.learner.user
    assert users.deactivated("13800000001", "wrong password!") is None  # reveals nothing
    service.set_active(made.learner.id, world.admin, active=True)  # an admin may too
    db.commit()
    assert users.authenticate("13800000001", "长长的初始密码一二三") is not None
    actions = db.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("learner_%activated"))
        .order_by(AuditEvent.id)
    ).all()  # fmt: skip
    assert actions == ["learner_deactivated", "learner_reactivated"]


def test_only_the_learners_county_or_an_admin_may_touch_them(db: Session, world: World) -> None:
    service = LearnerService(db)
    made = service.create(world.a.id, "王一", "13800000001", None, world.county_a)
    db.commit()
    lid = made.learner.id
    # another county's staff do not see the learner; the county's townships may not act
    for actor, refusal in ((world.county_b, NotFound), (world.township1, NotAllowed)):
        with pytest.raises(refusal):
            service.set_active(lid, actor, active=False)
        with pytest.raises(refusal):
            service.update(lid, actor, name="x", phone="13800000001", point_id=None)
        with pytest.raises(refusal):
            service.reset_password(lid, actor)
    assert service.get(lid, world.admin).id == lid


def test_study_per_point_counts_learners_hours_and_completions(db: Session, world: World) -> None:
    service = LearnerService(db)
    one = service.create(world.a.id, "王一", "13800000001", None, world.county_a, world.p1.id)
    two = service.create(world.a.id, "李二", "13800000002", None, world.county_a, world.p1.id)
    three = service.create(world.a.id, "张三", "13800000003", None, world.county_a)
    db.flush()
    episode, version = world.received.items[0].episode_id, world.received.items[0].version_id
    for made, seconds in ((one, 3600.0), (two, 1800.0), (three, 720.0)):
        uid = made.learner.user_id
        db.add(StudyDay(user_id=uid, episode_id=episode, county_id=world.a.id,
                        day=date(2026, 11, 3), seconds=seconds))  # fmt: skip
    db.add(StudyRecord(user_id=one.learner.user_id, episode_id=episode, version_id=version,
                       county_id=world.a.id, duration=600.0, watched_seconds=600.0,
                       completed_at=datetime(2026, 11, 3, 10, tzinfo=UTC)))  # fmt: skip
    db.commit()
    rows = {(r.township, r.name): (r.learners, round(r.totals.hours, 2), r.totals.completions)
            for r in point_study(db, world.a.id)}  # fmt: skip
    assert rows == {
        ("城关镇", "东村播放点"): (2, 1.5, 1),
        ("城关镇", "新华社区播放点"): (0, 0.0, 0),
        ("河口乡", "河口村播放点"): (0, 0.0, 0),
        ("", ""): (1, 0.2, 0),  # the learner without a point
    }
    only_t2 = point_study(db, world.a.id, township_id=world.t2.id)
    assert [(r.name, r.learners) for r in only_t2] == [("河口村播放点", 0)]
