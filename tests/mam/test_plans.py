"""Focus and monthly plans: only received films, only the township's active points."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import Conflict, InvalidInput, NotFound
from mam.models import AuditEvent
from mam.models.network import Plan
from mam.models.release import ScreeningOutcome
from mam.services.focus import FocusService
from mam.services.network import NetworkService
from mam.services.plans import EntryData, PlanService, parse_month, previous_month
from mam.services.screening_reports import Attendance, ReportData, ScreeningReports
from mam.services.supply import parse_film, supplied_films
from storage import create_storage
from tests.network_world import World, build

NOV = date(2026, 11, 1)
DEC = date(2026, 12, 1)


@pytest.fixture
def world(db: Session) -> World:
    return build(db)


def test_supplied_films_are_the_received_published_ones(db: Session, world: World) -> None:
    films = {(f.release_id, f.episode_id) for f in supplied_films(db, world.a.id)}
    assert films == {(world.received.id, world.e1), (world.received.id, world.e2)}
    assert supplied_films(db, world.b.id) == []
    # a completed download counts as received too
    from mam.models.release import Download, PackageKind, ReleasePackage

    package = ReleasePackage(release_id=world.announced.id, kind=PackageKind.PLAYBACK, size=10)
    db.add(package)
    db.flush()
    db.add(Download(package_id=package.id, county_id=world.a.id, bytes_sent=4, completed=False))
    db.commit()
    assert (world.announced.id, world.e3) not in {
        (f.release_id, f.episode_id) for f in supplied_films(db, world.a.id)
    }
    db.add(Download(package_id=package.id, county_id=world.a.id, bytes_sent=10, completed=True))
    db.commit()
    assert (world.announced.id, world.e3) in {
        (f.release_id, f.episode_id) for f in supplied_films(db, world.a.id)
    }


def test_county_sets_a_focus_from_its_films(db: Session, world: World) -> None:
    service = FocusService(db, world.county_a)
    focus = service.save(
        world.a.id,
        title="学习贯彻全会精神",
        themes="乡村振兴\n基层党建",
        starts_on=DEC,
        ends_on=date(2026, 12, 31),
        films=[(world.received.id, world.e1), (world.received.id, world.e1)],
    )
    db.commit()
    assert [f.episode_id for f in focus.films] == [world.e1]
    with pytest.raises(InvalidInput):
        service.save(
            world.a.id, title="x", themes="", starts_on=DEC, ends_on=DEC,
            films=[(world.announced.id, world.e3)],
        )  # fmt: skip
    with pytest.raises(InvalidInput):
        service.save(world.a.id, title="x", themes="", starts_on=DEC, ends_on=NOV, films=[])
    # the township reads it; another county and the township cannot set one
    assert [
        f.title for f in FocusService(db, world.township1).current(world.a.id, date(2026, 12, 5))
    ] == ["学习贯彻全会精神"]
    with pytest.raises(NotFound):
        FocusService(db, world.township1).save(
            world.a.id, title="x", themes="", starts_on=DEC, ends_on=DEC, films=[]
        )
    with pytest.raises(NotFound):
        FocusService(db, world.county_b).for_county(world.a.id)


def test_township_plans_received_films_at_its_points(db: Session, world: World) -> None:
    plans = PlanService(db, world.township1)
    plan = plans.open(world.t1, date(2026, 12, 9))
    assert plan.month == DEC
    entry = plans.add_entry(
        plan, EntryData(world.received.id, world.e1, world.p1.id, date(2026, 12, 10), time(19, 30))
    )
    db.commit()
    assert entry.id is not None
    bad = [
        EntryData(world.announced.id, world.e3, world.p1.id, date(2026, 12, 10)),  # not received
        EntryData(world.withdrawn.id, world.e4, world.p1.id, date(2026, 12, 10)),  # withdrawn
        EntryData(world.received.id, world.e3, world.p1.id, date(2026, 12, 10)),  # not in the set
        EntryData(world.received.id, world.e1, world.p3.id, date(2026, 12, 10)),  # other township
        EntryData(world.received.id, world.e1, world.p1.id, date(2027, 1, 2)),  # other month
    ]
    for data in bad:
        with pytest.raises(InvalidInput):
            plans.add_entry(plan, data)
    NetworkService(db, world.county_a).set_point_active(world.p2, False)
    with pytest.raises(InvalidInput):
        plans.add_entry(
            plan, EntryData(world.received.id, world.e1, world.p2.id, date(2026, 12, 3))
        )
    # another township's account cannot see it; county staff can act for the township
    with pytest.raises(NotFound):
        PlanService(db, world.township2).get(plan.id)
    with pytest.raises(NotFound):
        PlanService(db, world.county_b).get(plan.id)
    PlanService(db, world.county_a).add_entry(
        plan, EntryData(world.received.id, world.e2, world.p1.id, date(2026, 12, 20))
    )
    db.commit()
    assert len(db.get(Plan, plan.id).entries) == 2  # type: ignore[union-attr]


def test_copy_from_last_month_shifts_days_and_skips_what_cannot_be_planned(
    db: Session, world: World
) -> None:
    plans = PlanService(db, world.township1)
    oct_plan = plans.open(world.t1, date(2026, 10, 1))
    plans.add_entry(
        oct_plan, EntryData(world.received.id, world.e1, world.p1.id, date(2026, 10, 31), time(19))
    )
    plans.add_entry(
        oct_plan, EntryData(world.received.id, world.e2, world.p2.id, date(2026, 10, 5))
    )
    db.commit()
    NetworkService(db, world.county_a).set_point_active(world.p2, False)
    nov_plan = plans.open(world.t1, NOV)
    result = plans.copy_previous(nov_plan)
    db.commit()
    assert (result.copied, result.skipped) == (1, 1)
    [entry] = nov_plan.entries
    assert (entry.planned_on, entry.planned_time, entry.point_id) == (
        date(2026, 11, 30),
        time(19),
        world.p1.id,
    )
    again = plans.copy_previous(nov_plan)
    assert (again.copied, again.skipped) == (0, 2)
    with pytest.raises(NotFound):
        plans.copy_previous(plans.open(world.t1, date(2026, 8, 1)))
    assert db.scalar(select(AuditEvent.id).where(AuditEvent.action == "plan_copied")) is not None


def test_an_entry_with_a_report_stays(db: Session, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    plans = PlanService(db, world.township1)
    plan = plans.open(world.t1, NOV)
    kept = plans.add_entry(
        plan, EntryData(world.received.id, world.e1, world.p1.id, date(2026, 11, 3))
    )
    gone = plans.add_entry(
        plan, EntryData(world.received.id, world.e2, world.p1.id, date(2026, 11, 4))
    )
    ScreeningReports(db, world.township1, create_storage("local", root=tmp_path)).report_entry(
        kept,
        ReportData(ScreeningOutcome.HELD, date(2026, 11, 3), world.p1.id, Attendance(30)),
    )
    db.commit()
    with pytest.raises(Conflict):
        plans.remove_entry(kept)
    plans.remove_entry(gone)
    db.commit()
    assert [e.id for e in db.get(Plan, plan.id).entries] == [kept.id]  # type: ignore[union-attr]


def test_month_and_film_parsing() -> None:
    assert parse_month("2026-12") == DEC
    assert previous_month(date(2027, 1, 1)) == DEC
    assert parse_film("3:17") == (3, 17)
    for bad in ["2026", "2026-13", "２０２６-12", ""]:
        with pytest.raises(InvalidInput):
            parse_month(bad)
    for bad in ["3", "a:b", "0:1", "3:", "-1:2", "٣:1"]:
        with pytest.raises(InvalidInput):
            parse_film(bad)
