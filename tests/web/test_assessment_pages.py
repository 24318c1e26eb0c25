"""Assessment dashboards: who sees what, the score traced to screenings, the exports."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from mam.models import Role
from mam.runtime import Runtime
from mam.services.users import UserService
from tests import assessment_world
from tests.assessment_world import World
from tests.web.conftest import PASSWORD

PERIOD = "start=2026-03&end=2026-04"
Login = Callable[[str], FlaskClient]


@pytest.fixture
def world(app: Flask, runtime: Runtime) -> World:
    with runtime.db.session() as s:
        w = assessment_world.build(s)
        s.commit()
        user = UserService(s).create("town-t1", PASSWORD, [Role.TOWNSHIP], county_code="c1")
        user.township_id = w.townships["T1"]
        s.commit()
    return w


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_admin_sees_every_county_ranked_with_the_formula(world: World, login: Login) -> None:
    client = login("admin")
    html = client.get(f"/assessment/?{PERIOD}").get_data(as_text=True)
    text = _text(html)
    assert re.search(r"1 甲县 .*65\.9.* 2 乙县 .*50\.8", text)
    assert 'data-testid="heatmap"' in html and html.count('data-testid="trend"') == 2
    assert "Σ" in text  # the formula is on the page
    a = world.counties["A"]
    # The heatmap cell of 甲县 in March links to that month's screenings.
    assert f"/assessment/screenings?county={a}&amp;month=2026-03&amp;start=2026-03" in html


def test_county_score_traces_back_to_its_screenings(world: World, login: Login) -> None:
    client = login("admin")
    a = world.counties["A"]
    html = client.get(f"/assessment/county/{a}?{PERIOD}").get_data(as_text=True)
    text = _text(html)
    assert "65.9" in text and "= 100 × 65.92 ÷ 100.0" in text
    assert "3 ÷ 5" in text and "2 ÷ 3" in text and "1 ÷ 2" in text
    assert re.search(r"城关镇 .*74\.1.*河西乡 .*62\.0", text)
    assert re.search(r"2026年第3期 2 2 100\.0% 5 215 2026年第4期 1 0 0\.0% 0 0", text)
    rows = client.get(f"/assessment/screenings?county={a}&month=2026-03&{PERIOD}")
    listed = re.findall(r"/assessment/screening/(\d+)", rows.get_data(as_text=True))
    s = world.screenings
    assert [int(i) for i in listed] == [s["s7"], s["s3"], s["s4"], s["s2"], s["s1"]]
    detail = _text(client.get(f"/assessment/screening/{s['s1']}").get_data(as_text=True))
    assert "东村放映点" in detail and "党的光辉历程" in detail and "40" in detail


def test_county_account_sees_only_its_county(world: World, login: Login) -> None:
    client = login("county")
    a, b = world.counties["A"], world.counties["B"]
    assert (
        client.get(f"/assessment/?{PERIOD}")
        .headers["Location"]
        .startswith(f"/assessment/county/{a}")
    )
    assert client.get(f"/assessment/county/{a}?{PERIOD}").status_code == 200
    assert client.get(f"/assessment/county/{b}?{PERIOD}").status_code == 404
    assert client.get(f"/assessment/township/{world.townships['T3']}").status_code == 404
    assert client.get(f"/assessment/screening/{world.screenings['s6']}").status_code == 404
    html = client.get(f"/assessment/screenings?county={b}&{PERIOD}").get_data(as_text=True)
    assert "/assessment/screening/" not in html


def test_township_account_sees_only_its_township(world: World, login: Login) -> None:
    client = login("town-t1")
    t1, t2 = world.townships["T1"], world.townships["T2"]
    assert client.get("/assessment/").headers["Location"].startswith(f"/assessment/township/{t1}")
    page = _text(client.get(f"/assessment/township/{t1}?{PERIOD}").get_data(as_text=True))
    assert "东村放映点" in page and "南街社区放映点" in page
    assert client.get(f"/assessment/township/{t2}").status_code == 404
    assert client.get(f"/assessment/county/{world.counties['A']}").status_code == 404
    assert client.get(f"/assessment/screening/{world.screenings['s4']}").status_code == 404
    body = client.get(f"/assessment/export.csv?grain=county&{PERIOD}").get_data(as_text=True)
    assert [r["name"] for r in csv.DictReader(io.StringIO(body))] == ["城关镇"]


def test_exports_in_chinese_and_for_programs(world: World, login: Login) -> None:
    client = login("admin")
    body = client.get(f"/assessment/export.csv?grain=county&{PERIOD}").get_data(as_text=True)
    table = list(csv.DictReader(io.StringIO(body)))
    assert [(r["name"], r["score"], r["plan_numerator"], r["plan_denominator"]) for r in table] == [
        ("甲县", "65.9", "3", "5"),
        ("乙县", "50.8", "1", "2"),
    ]
    data = client.get(f"/assessment/export.xlsx?grain=county&{PERIOD}").get_data()
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert sheet["A1"].value == "目标考核 2026-03 – 2026-04"
    assert [c.value for c in sheet[2]][:5] == ["名次", "县", "得分", "已放映场次", "观看人数"]
    assert [c.value for c in sheet[3]][:5] == [1, "甲县", 65.9, 5, 215]


def test_bad_periods_are_refused_politely(world: World, login: Login) -> None:
    client = login("admin")
    for query in (
        "start=2026-13&end=2026-12",
        "start=2026-04&end=2026-03",
        "start=x&end=y",
        "start=2000-01&end=2026-01",
    ):
        assert client.get(f"/assessment/?{query}").status_code == 400, query


def test_odd_filters_never_fail(world: World, login: Login) -> None:
    client = login("admin")
    huge = str(2**70)
    for query in (
        f"county={huge}&township=x&point=-1&release=²&page={huge}",
        "month=2026-13",
        "month=x",
        f"page=999999&{PERIOD}",
        "grain=nonsense",
    ):
        for path in ("/assessment/screenings", "/assessment/export.csv"):
            status = client.get(f"{path}?{query}").status_code
            assert status in (200, 400), (path, query, status)
