"""The network pages: county staff maintain and import, a township plans, reports, circulates."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from mam.models import AuditEvent, User
from mam.models.network import PlanEntry, PlaybackPoint, Township
from mam.models.release import Screening, ScreeningOutcome
from mam.runtime import Runtime
from mam.services.plans import EntryData, PlanService
from mam.services.users import hash_password
from tests.network_world import World, build
from tests.web.conftest import PASSWORD, csrf_from


@pytest.fixture
def net(app: Flask, runtime: Runtime) -> World:
    with runtime.db.session() as s:
        world = build(s)
        for user in (world.admin, world.county_a, world.county_b, world.township1, world.township2):
            user.password_hash = hash_password(PASSWORD)
        s.commit()
        s.expunge_all()
    return world


def signed_in(app: Flask, username: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 302
    return client, csrf_from(client.get("/account").get_data(as_text=True))


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buf, "JPEG")
    return buf.getvalue()


def test_township_account_lands_on_its_plan_and_sees_only_its_township(
    app: Flask, net: World
) -> None:
    client, _ = signed_in(app, net.township1.username)
    r = client.get("/network/")
    assert r.status_code == 302 and f"/network/townships/{net.t1.id}/plan" in r.headers["Location"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "城关镇" in page and "2026年第11期" in page
    assert "2026年第12期" not in page  # announced, not received: cannot be planned
    assert client.get(f"/network/townships/{net.t2.id}/plan").status_code == 404
    assert client.get(f"/network/townships/{net.tb.id}/report").status_code == 404
    assert client.get("/network/buildout").status_code == 403


def test_plan_report_print_and_export(app: Flask, net: World, runtime: Runtime) -> None:
    client, token = signed_in(app, net.township1.username)
    day = date.today() - timedelta(days=1)
    month = day.strftime("%Y-%m")
    r = client.post(
        f"/network/townships/{net.t1.id}/plan",
        data={
            "csrf_token": token, "month": month, "film": f"{net.received.id}:{net.e1}",
            "point_id": net.p1.id, "planned_on": day.isoformat(), "planned_time": "19:30",
            "note": "=cmd|' /C calc'!A0",
        },
    )  # fmt: skip
    assert r.status_code == 302
    with runtime.db.session() as s:
        entry = s.scalars(select(PlanEntry)).one()
        entry_id = entry.id
        plan_id = entry.plan_id
    # a film the county has not received is refused with a message, not a 500
    r = client.post(
        f"/network/townships/{net.t1.id}/plan",
        data={
            "csrf_token": token, "month": month, "film": f"{net.announced.id}:{net.e3}",
            "point_id": net.p1.id, "planned_on": day.isoformat(),
        },
        follow_redirects=True,
    )  # fmt: skip
    assert "不在本县已收到的影片之中" in r.get_data(as_text=True) or "not among" in r.get_data(
        as_text=True
    )
    printed = client.get(f"/network/plans/{plan_id}/print").get_data(as_text=True)
    assert "城关镇" in printed and "东村播放点" in printed and "network-print.css" in printed
    csv = client.get(f"/network/plans/{plan_id}/export.csv")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0].startswith("plan_month,township,entry_id,planned_on")
    assert f"{month},城关镇,{entry_id},{day.isoformat()},19:30" in lines[1]
    assert "'=cmd" in lines[1]  # formula-safe
    xlsx = client.get(f"/network/plans/{plan_id}/export.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:3] == (day.isoformat(), "19:30", "东村播放点")
    assert str(rows[1][7]).startswith("'=")
    # report it from the phone page: held, with a photo
    r = client.post(
        f"/network/entries/{entry_id}/report",
        data={
            "csrf_token": token, "outcome": "held", "screened_on": day.isoformat(),
            "point_id": net.p1.id, "viewers": "38", "note": "群众反映好",
            "photo": (io.BytesIO(jpeg()), "现场.jpg"),
        },
        content_type="multipart/form-data",
    )  # fmt: skip
    assert r.status_code == 302
    with runtime.db.session() as s:
        report = s.scalars(select(Screening).where(Screening.plan_entry_id == entry_id)).one()
        assert (report.outcome, report.viewers, report.photo_type) == (
            ScreeningOutcome.HELD,
            38,
            "image/jpeg",
        )
        report_id = report.id
    photo = client.get(f"/network/screenings/{report_id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg" and photo.data == jpeg()
    other, _ = signed_in(app, net.township2.username)
    assert other.get(f"/network/screenings/{report_id}/photo").status_code == 404
    assert other.get(f"/network/plans/{plan_id}/export.csv").status_code == 404
    runtime.storage.delete(f"screenings/{report_id}/photo")  # lost from storage: 404, not 500
    assert client.get(f"/network/screenings/{report_id}/photo").status_code == 404


def test_a_bad_photo_is_refused_on_the_form(app: Flask, net: World, runtime: Runtime) -> None:
    client, token = signed_in(app, net.county_a.username)  # county staff acting for t1
    r = client.post(
        f"/network/townships/{net.t1.id}/screenings",
        data={
            "csrf_token": token, "outcome": "held", "film": f"{net.received.id}:{net.e2}",
            "point_id": net.p2.id, "screened_on": date.today().isoformat(), "viewers": "5",
            "photo": (io.BytesIO(b"<svg/>"), "x.svg"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )  # fmt: skip
    assert r.status_code == 200
    assert "JPEG" in r.get_data(as_text=True)
    with runtime.db.session() as s:
        assert s.scalars(select(Screening)).all() == []


def test_county_imports_a_sheet_after_a_dry_run(app: Flask, net: World, runtime: Runtime) -> None:
    client, token = signed_in(app, net.county_a.username)
    sheet = (
        "乡镇,网点名称,类型,地址,联系人,电话\n城关镇,北村播放点,行政村,北村,赵四,13900000000\n"
    ).encode()
    r = client.post(
        "/network/import",
        data={"csrf_token": token, "sheet": (io.BytesIO(sheet), "网点.csv")},
        content_type="multipart/form-data",
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "北村播放点" in page
    with runtime.db.session() as s:
        assert s.scalar(select(PlaybackPoint).where(PlaybackPoint.name == "北村播放点")) is None
    digest = page.split('name="digest" value="')[1].split('"')[0]
    r = client.post(
        "/network/import/confirm",
        data={"csrf_token": token, "digest": digest, "filename": "网点.csv"},
    )
    assert r.status_code == 302
    with runtime.db.session() as s:
        point = s.scalar(select(PlaybackPoint).where(PlaybackPoint.name == "北村播放点"))
        assert point is not None and point.contact_phone == "13900000000"
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.action == "network_imported"))
    # the county of another county cannot import into this one, nor see its townships
    other, _ = signed_in(app, net.county_b.username)
    assert other.get(f"/network/townships/{net.t1.id}").status_code == 404
    assert "城关镇" not in other.get("/network/").get_data(as_text=True)


def test_circulation_page_moves_a_copy(app: Flask, net: World) -> None:
    client, token = signed_in(app, net.township1.username)
    r = client.post(
        f"/network/townships/{net.t1.id}/copies",
        data={
            "csrf_token": token,
            "label": "U盘-07",
            "medium": "usb",
            "release_id": net.received.id,
        },
    )
    assert r.status_code == 302
    page = client.get(f"/network/townships/{net.t1.id}/copies").get_data(as_text=True)
    copy_id = int(page.split("/network/copies/")[1].split("/")[0])
    r = client.post(
        f"/network/copies/{copy_id}/hand-on",
        data={"csrf_token": token, "point_id": net.p2.id, "moved_on": date.today().isoformat()},
    )
    assert r.status_code == 302
    page = client.get(f"/network/townships/{net.t1.id}/copies").get_data(as_text=True)
    assert "新华社区播放点" in page.split('data-testid="copy-holder">')[1].split("<")[0]


def test_head_of_a_form_page_reads_and_writes_nothing(
    app: Flask, net: World, runtime: Runtime
) -> None:
    """HEAD runs the GET path (a link checker must not loop or submit the form)."""
    county, _ = signed_in(app, net.county_a.username)
    assert county.head("/network/import").status_code == 200
    assert county.head(f"/network/points/{net.p1.id}/edit").status_code == 200
    with runtime.db.session() as s:
        admin = s.get_one(User, net.admin.id)
        plans = PlanService(s, admin)
        entry = plans.add_entry(
            plans.open(s.get_one(Township, net.t1.id), date.today()),
            EntryData(net.received.id, net.e1, net.p1.id, date.today()),
        )
        s.commit()
        entry_id = entry.id
    township, _ = signed_in(app, net.township1.username)
    assert township.head(f"/network/entries/{entry_id}/report").status_code == 200
    with runtime.db.session() as s:
        assert s.scalars(select(Screening)).all() == []
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.action == "point_updated")) is None
