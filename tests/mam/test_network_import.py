"""Importing townships and points from a spreadsheet: the dry run, then the write."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mam.errors import InvalidInput, NotFound
from mam.models.network import Organisation, PlaybackPoint, PointKind, Township
from mam.services import buildout
from mam.services.network_import import NetworkImport
from tests.network_world import World, build

HEADER = ["乡镇", "网点名称", "类型", "地址", "联系人", "电话", "单位"]
ROWS = [
    ["城关镇", "东村播放点", "行政村", "东村村委会", "李明", "13800000001", "东村"],
    ["城关镇", "", "行政村", "", "", "", "南村"],
    ["新丰镇", "新丰社区播放点", "城市社区", "新丰路1号", "王芳", "0871-6543210", ""],
    ["新丰镇", "红星厂播放点", "非公企业", "", "", "", "红星机械厂"],
]


@pytest.fixture
def world(db: Session) -> World:
    return build(db)


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    return "\n".join(",".join(r) for r in [HEADER, *rows]).encode(encoding)


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADER, *rows]:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("fmt", ["csv-utf8", "csv-gbk", "xlsx"])
def test_dry_run_writes_nothing_then_import_creates_and_updates(
    db: Session, world: World, fmt: str
) -> None:
    data, name = {
        "csv-utf8": (csv_bytes(ROWS), "网点.csv"),
        "csv-gbk": (csv_bytes(ROWS, "gbk"), "网点.csv"),
        "xlsx": (xlsx_bytes(ROWS), "网点.xlsx"),
    }[fmt]
    importer = NetworkImport(db, world.county_a, world.a.id)
    before = (count(db, Township), count(db, PlaybackPoint), count(db, Organisation))
    check = importer.check(data, name)
    assert check.errors == []
    assert [(r.line, r.action) for r in check.reports] == [
        (2, "update"),
        (3, "organisation"),
        (4, "create"),
        (5, "create"),
    ]
    db.rollback()
    assert (count(db, Township), count(db, PlaybackPoint), count(db, Organisation)) == before
    importer.apply(importer.check(data, name))
    db.commit()
    point = db.scalar(select(PlaybackPoint).where(PlaybackPoint.name == "新丰社区播放点"))
    assert point is not None
    assert (point.kind, point.address, point.contact_name, point.contact_phone) == (
        PointKind.COMMUNITY,
        "新丰路1号",
        "王芳",
        "0871-6543210",
    )
    assert point.township.name == "新丰镇" and point.township.county_id == world.a.id
    assert point.organisation is not None and point.organisation.name == "新丰社区播放点"
    east = db.scalar(select(PlaybackPoint).where(PlaybackPoint.name == "东村播放点"))
    assert east is not None and east.address == "东村村委会" and east.contact_name == "李明"
    a = {r.id: r for r in buildout.by_county(db, [world.a.id])}[world.a.id]
    # before: 东村, 西村, 新华社区 (2 built); now also 南村 (none), 新丰社区, 红星机械厂 (built)
    assert (a.total.organisations, a.total.built) == (6, 4)
    # a second run changes nothing
    again = NetworkImport(db, world.county_a, world.a.id).check(data, name)
    assert {r.action for r in again.reports} == {"unchanged", "organisation"}


def test_every_bad_line_is_reported_and_nothing_is_written(db: Session, world: World) -> None:
    rows = [
        ["城关镇", "好点", "行政村", "", "", "", ""],
        ["", "无乡镇", "行政村", "", "", "", ""],
        ["城关镇", "怪点", "城堡", "", "", "", ""],
        ["城关镇", "电话错", "学校", "", "", "=1+1", ""],
        ["城关镇", "好点", "学校", "", "", "", ""],
        ["城关镇", "", "行政村", "", "", "", ""],
    ]
    importer = NetworkImport(db, world.county_a, world.a.id)
    check = importer.check(csv_bytes(rows), "bad.csv")
    assert [r.line for r in check.errors] == [3, 4, 5, 6, 7]
    assert "城堡" in str(check.errors[1].problem)
    with pytest.raises(InvalidInput):
        importer.apply(check)
    assert db.scalar(select(PlaybackPoint).where(PlaybackPoint.name == "好点")) is None


def test_headers_and_scope_are_checked(db: Session, world: World) -> None:
    with pytest.raises(InvalidInput):
        NetworkImport(db, world.county_a, world.a.id).check("名字,地址\n甲,乙\n".encode(), "x.csv")
    with pytest.raises(InvalidInput):
        NetworkImport(db, world.county_a, world.a.id).check(b"PK\x03\x04garbage", "x.xlsx")
    with pytest.raises(NotFound):
        NetworkImport(db, world.county_b, world.a.id)
    with pytest.raises(NotFound):
        NetworkImport(db, world.township1, world.a.id)
