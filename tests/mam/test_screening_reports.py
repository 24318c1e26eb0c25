"""Screening reports against the plan (with photos on local storage and S3) and circulation."""

from __future__ import annotations

import io
import uuid
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import InvalidInput, NotFound
from mam.models import AuditEvent
from mam.models.network import CopyMedium, PlanEntry
from mam.models.release import Screening, ScreeningOutcome
from mam.services.circulation import Circulation
from mam.services.plans import EntryData, PlanService
from mam.services.screening_reports import Attendance, Photo, ReportData, ScreeningReports
from storage import Storage, create_storage
from tests.network_world import World, build

DAY = date.today() - timedelta(days=2)


@pytest.fixture
def world(db: Session) -> World:
    return build(db)


@pytest.fixture
def store(tmp_path: Path) -> Storage:
    return create_storage("local", root=tmp_path / "store")


def jpeg(size: tuple[int, int] = (32, 24)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def planned(db: Session, world: World) -> PlanEntry:
    plans = PlanService(db, world.township1)
    plan = plans.open(world.t1, DAY)
    entry = plans.add_entry(
        plan, EntryData(world.received.id, world.e1, world.p1.id, DAY, time(19))
    )
    db.commit()
    return entry


def test_held_as_planned_with_party_split_and_photo(
    db: Session, world: World, store: Storage
) -> None:
    entry = planned(db, world)
    reports = ScreeningReports(db, world.township1, store, party_split=True)
    attendance = Attendance.parse({"party_members": "12", "masses": "30"}, split=True)
    row = reports.report_entry(
        entry,
        ReportData(ScreeningOutcome.HELD, DAY, world.p1.id, attendance, time(19), note="反响很好"),
        Photo(jpeg(), "现场.jpg"),
    )
    db.commit()
    assert (row.viewers, row.party_members, row.masses) == (42, 12, 30)
    assert (row.county_id, row.township_id, row.point_id, row.place) == (
        world.a.id, world.t1.id, world.p1.id, "东村播放点",
    )  # fmt: skip
    assert (row.release_id, row.episode_id, row.plan_entry_id) == (
        world.received.id,
        world.e1,
        entry.id,
    )
    assert row.photo_type == "image/jpeg" and row.photo_key == f"screenings/{row.id}/photo"
    with store.open(row.photo_key) as f:
        assert f.read() == jpeg()
    assert reports.unreported(world.t1, date.today()) == []
    assert (
        db.scalar(select(AuditEvent.to_state).where(AuditEvent.action == "screening_reported"))
        == "held"
    )


def test_moved_and_not_held_need_a_reason(db: Session, world: World, store: Storage) -> None:
    entry = planned(db, world)
    reports = ScreeningReports(db, world.township1, store)
    other_day = DAY - timedelta(days=1)
    with pytest.raises(InvalidInput):  # held, but on another day: that is "moved"
        reports.report_entry(
            entry, ReportData(ScreeningOutcome.HELD, other_day, world.p1.id, Attendance(5))
        )
    with pytest.raises(InvalidInput):
        reports.report_entry(
            entry, ReportData(ScreeningOutcome.MOVED, other_day, world.p1.id, Attendance(5))
        )
    with pytest.raises(InvalidInput):
        reports.report_entry(entry, ReportData(ScreeningOutcome.NOT_HELD, DAY, world.p1.id))
    row = reports.report_entry(
        entry,
        ReportData(ScreeningOutcome.NOT_HELD, DAY, world.p1.id, Attendance(99), reason="停电"),
    )
    db.commit()
    assert (row.outcome, row.viewers, row.reason) == (ScreeningOutcome.NOT_HELD, 0, "停电")
    # filing again corrects the same report
    again = reports.report_entry(
        entry,
        ReportData(
            ScreeningOutcome.MOVED, other_day, world.p2.id, Attendance(25), reason="改到社区"
        ),
    )
    db.commit()
    assert again.id == row.id and again.point_id == world.p2.id and again.viewers == 25
    assert again.updated_at is not None
    assert len(db.scalars(select(Screening).where(Screening.plan_entry_id == entry.id)).all()) == 1


def test_scope_future_days_and_unplanned(db: Session, world: World, store: Storage) -> None:
    entry = planned(db, world)
    with pytest.raises(NotFound):
        ScreeningReports(db, world.township2, store).report_entry(
            entry, ReportData(ScreeningOutcome.HELD, DAY, world.p1.id, Attendance(5))
        )
    reports = ScreeningReports(db, world.county_a, store)  # county staff acting for t1
    with pytest.raises(InvalidInput):
        reports.report_unplanned(
            world.t1, (world.received.id, world.e2),
            ReportData(ScreeningOutcome.HELD, DAY + timedelta(days=5), world.p1.id, Attendance(5)),
            None,
        )  # fmt: skip
    with pytest.raises(InvalidInput):
        reports.report_unplanned(
            world.t1, (world.announced.id, world.e3),
            ReportData(ScreeningOutcome.HELD, DAY, world.p1.id, Attendance(5)), None,
        )  # fmt: skip
    with pytest.raises(InvalidInput):  # a point of another township
        reports.report_unplanned(
            world.t1, (world.received.id, world.e2),
            ReportData(ScreeningOutcome.HELD, DAY, world.p3.id, Attendance(5)), None,
        )  # fmt: skip
    row = reports.report_unplanned(
        world.t1, (world.received.id, world.e2),
        ReportData(ScreeningOutcome.HELD, DAY, world.p2.id, Attendance(17)), None,
    )  # fmt: skip
    db.commit()
    assert row.plan_entry_id is None and row.viewers == 17
    assert [e.id for e in reports.unreported(world.t1, date.today())] == [entry.id]


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"\xff\xd8\xff\xe0 not really a jpeg",
        b"",
    ],
)
def test_only_real_images_are_stored(
    db: Session, world: World, store: Storage, data: bytes
) -> None:
    entry = planned(db, world)
    reports = ScreeningReports(db, world.township1, store)
    with pytest.raises(InvalidInput):
        reports.report_entry(
            entry, ReportData(ScreeningOutcome.HELD, DAY, world.p1.id, Attendance(5)), Photo(data)
        )


def test_photo_size_limit(db: Session, world: World, store: Storage) -> None:
    entry = planned(db, world)
    reports = ScreeningReports(db, world.township1, store, photo_max_bytes=100)
    with pytest.raises(InvalidInput, match="larger"):
        reports.report_entry(
            entry, ReportData(ScreeningOutcome.HELD, DAY, world.p1.id, Attendance(5)), Photo(jpeg())
        )


def test_photo_is_stored_on_s3(db: Session, world: World, moto_endpoint: str) -> None:
    s3 = create_storage(
        "s3", bucket=f"shots-{uuid.uuid4().hex[:12]}", endpoint_url=moto_endpoint,
        region_name="us-east-1", create_bucket=True,
    )  # fmt: skip
    entry = planned(db, world)
    row = ScreeningReports(db, world.township1, s3).report_entry(
        entry,
        ReportData(ScreeningOutcome.HELD, DAY, world.p1.id, Attendance(8)),
        Photo(jpeg((64, 64))),
    )
    db.commit()
    assert s3.exists(f"screenings/{row.id}/photo")
    assert s3.size(f"screenings/{row.id}/photo") == len(jpeg((64, 64)))


def test_copies_circulate_between_points_with_history(db: Session, world: World) -> None:
    circulation = Circulation(db, world.township1)
    copy = circulation.register(
        world.t1, label="U盘-01", medium=CopyMedium.USB.value, release_id=world.received.id
    )
    db.commit()
    assert copy.holder_point_id is None
    circulation.hand_on(copy, world.p1.id, moved_on=DAY)
    circulation.hand_on(copy, world.p2.id, moved_on=DAY, note="东村放完")
    db.commit()
    assert copy.holder_point_id == world.p2.id
    assert [(m.from_point_id, m.to_point_id) for m in copy.movements] == [
        (None, world.p1.id), (world.p1.id, world.p2.id),
    ]  # fmt: skip
    with pytest.raises(InvalidInput):
        circulation.hand_on(copy, world.p3.id, moved_on=DAY)  # another township's point
    with pytest.raises(InvalidInput):
        circulation.hand_on(copy, world.p2.id, moved_on=DAY)  # already there
    with pytest.raises(InvalidInput):
        circulation.register(world.t1, label="U盘-01", medium="usb", release_id=world.received.id)
    with pytest.raises(InvalidInput):
        circulation.register(world.t1, label="光盘-1", medium="disc", release_id=world.announced.id)
    with pytest.raises(NotFound):
        Circulation(db, world.township2).get(copy.id)
    circulation.hand_on(copy, None, moved_on=DAY)  # back to the station
    circulation.retire(copy)
    db.commit()
    with pytest.raises(InvalidInput):
        circulation.hand_on(copy, world.p1.id, moved_on=DAY)
