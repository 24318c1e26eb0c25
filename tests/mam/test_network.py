"""The network as data: scope, townships and points, deactivation, build-out, accounts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import Conflict, InvalidInput, NotFound
from mam.models import AuditEvent, Role
from mam.models.network import Organisation, PlaybackPoint, PointKind
from mam.services import buildout
from mam.services.network import NetworkService, PointData
from mam.services.plans import EntryData, PlanService
from tests.network_world import World, build


def world_month() -> date:
    return date.today().replace(day=1)


@pytest.fixture
def world(db: Session) -> World:
    return build(db)


def test_county_staff_maintain_only_their_county(db: Session, world: World) -> None:
    mine = NetworkService(db, world.county_a)
    added = mine.add_township(world.a.id, " 新村镇 ", contact_phone="0871-1234567")
    db.commit()
    assert added.name == "新村镇"
    assert {t.name for t in mine.townships(world.a.id)} == {"城关镇", "河口乡", "新村镇"}
    other = NetworkService(db, world.county_b)
    with pytest.raises(NotFound):
        other.add_township(world.a.id, "越界镇")
    with pytest.raises(NotFound):
        other.add_point(world.t1, PointData(name="越界点", kind=PointKind.VILLAGE))
    with pytest.raises(NotFound):
        other.townships(world.a.id)
    # a township account reads its own township's points but maintains nothing
    township = NetworkService(db, world.township1)
    assert {p.name for p in township.points(world.t1)} == {"东村播放点", "新华社区播放点"}
    with pytest.raises(NotFound):
        township.points(world.t2)
    with pytest.raises(NotFound):
        township.add_point(world.t1, PointData(name="自建点", kind=PointKind.VILLAGE))
    # the admin reaches every county
    NetworkService(db, world.admin).add_township(world.b.id, "乙二镇")
    db.commit()


def test_names_are_unique_per_township_and_phone_is_checked(db: Session, world: World) -> None:
    service = NetworkService(db, world.county_a)
    with pytest.raises(Conflict):
        service.add_point(world.t1, PointData(name="东村播放点", kind=PointKind.VILLAGE))
    with pytest.raises(InvalidInput):
        PointData.parse({"name": "点", "kind": "village", "contact_phone": "=HYPERLINK(1)"})
    with pytest.raises(InvalidInput):
        PointData.parse({"name": "点", "kind": "castle"})
    # the same name in another township is fine
    point = service.add_point(world.t2, PointData(name="东村播放点", kind=PointKind.SCHOOL))
    assert point.township_id == world.t2.id


def test_a_referenced_point_is_deactivated_not_deleted(db: Session, world: World) -> None:
    plans = PlanService(db, world.township1)
    plan = plans.open(world.t1, world_month())
    plans.add_entry(plan, EntryData(world.received.id, world.e1, world.p1.id, world_month()))
    unused = NetworkService(db, world.county_a).add_point(
        world.t1, PointData(name="临时点", kind=PointKind.OTHER)
    )
    db.commit()
    service = NetworkService(db, world.county_a)
    with pytest.raises(Conflict):
        service.delete_point(world.p1)
    service.set_point_active(world.p1, False)
    service.delete_point(unused)
    db.commit()
    assert db.get(PlaybackPoint, world.p1.id).active is False  # type: ignore[union-attr]
    assert db.get(PlaybackPoint, unused.id) is None
    with pytest.raises(Conflict):
        service.delete_township(world.t1)
    actions = set(
        db.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "playback_point"))
    )
    assert {"point_created", "point_deactivated", "point_deleted"} <= actions


def test_build_out_rate_is_computed_per_county_and_kind(db: Session, world: World) -> None:
    rows = {r.id: r for r in buildout.by_county(db, [world.a.id, world.b.id])}
    a = rows[world.a.id]
    # t1 has 东村 (point), 西村 (no point), 新华社区 (point): villages 1/2, communities 1/1
    assert (a.total.organisations, a.total.built) == (3, 2)
    assert a.by_kind[PointKind.VILLAGE].rate == 0.5
    assert a.by_kind[PointKind.COMMUNITY].rate == 1.0
    assert rows[world.b.id].total.rate is None  # nothing recorded: unknown, not 0 %
    # deactivating the community point lowers the rate; a dissolved organisation leaves it
    service = NetworkService(db, world.county_a)
    service.set_point_active(world.p2, False)
    west = db.scalar(select(Organisation).where(Organisation.name == "西村"))
    assert west is not None
    service.set_organisation_active(west, False)
    db.commit()
    a = {r.id: r for r in buildout.by_county(db, [world.a.id])}[world.a.id]
    assert (a.total.organisations, a.total.built) == (2, 1)
    assert a.by_kind[PointKind.VILLAGE].rate == 1.0
    assert a.by_kind[PointKind.COMMUNITY].rate == 0.0
    towns = {r.name: r for r in buildout.by_township(db, world.a.id)}
    assert towns["城关镇"].total.built == 1
    assert towns["河口乡"].total.rate is None


def test_county_creates_a_township_account_scoped_to_it(db: Session, world: World) -> None:
    service = NetworkService(db, world.county_a)
    user = service.add_township_account(
        world.t2,
        username="hekou",
        password="河口乡 播放 2026 rain-cloud",
        display_name="河口乡电教站",
    )
    db.commit()
    assert user.roles == {Role.TOWNSHIP}
    assert (user.county_id, user.township_id) == (world.a.id, world.t2.id)
    assert user.must_change_password
    with pytest.raises(Conflict):
        service.add_township_account(
            world.t2, username="hekou", password="another long passphrase 77"
        )
    with pytest.raises(InvalidInput):
        service.add_township_account(world.t2, username="weak", password="1234567890")
    with pytest.raises(NotFound):
        NetworkService(db, world.county_b).add_township_account(
            world.t2, username="intruder", password="河口乡 播放 2026 rain-cloud"
        )
