"""Exports: Chinese by default (English with ?lang=en); XLSX for people, CSV for programs."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime

from flask.testing import FlaskClient
from openpyxl import load_workbook

from mam.models import County
from mam.runtime import Runtime
from tests.web.conftest import csrf_from
from tests.web.test_input_policy import _legacy_release
from tests.web.test_releases_web import post, published  # noqa: F401 - the fixture

HEADINGS_ZH = ["县代码", "县", "已下载", "确认接收时间", "逾期",
               "需复制套数", "放映场次", "观众人数"]  # fmt: skip
HEADINGS_EN = ["County code", "County", "Downloaded", "Receipt confirmed on", "Overdue",
               "Copies needed", "Screenings", "Viewers"]  # fmt: skip


def _sheet(client: FlaskClient, url: str) -> list[list[object]]:
    r = client.get(url)
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(r.get_data()))
    sheet = book.worksheets[0]
    return [[c.value for c in row] for row in sheet.iter_rows()]


def _county_confirms(login: Callable[[str], FlaskClient], release: int) -> None:
    county = login("county")
    post(county, f"/county/releases/{release}/receipt", page="/county/")
    county.post(
        "/logout", data={"csrf_token": csrf_from(county.get("/county/").get_data(as_text=True))}
    )


def test_coverage_xlsx_is_for_people_in_their_language(
    login: Callable[[str], FlaskClient], published: dict  # type: ignore[type-arg]  # noqa: F811
) -> None:
    _county_confirms(login, published["release"])
    client = login("publisher")
    url = f"/releases/{published['release']}/coverage.xlsx"
    rows = _sheet(client, url)
    assert rows[0] == HEADINGS_ZH
    code, name, downloaded, confirmed, overdue = rows[1][:5]
    assert (code, name, downloaded, overdue) == ("c1", "甲县", "否", "否")
    assert isinstance(confirmed, datetime)  # a real date cell, shown 2026年12月1日 in Chinese
    book = load_workbook(io.BytesIO(client.get(url).get_data()))
    assert book.worksheets[0].cell(row=2, column=4).number_format.startswith('yyyy"年"m"月"d"日"')
    english = _sheet(client, url + "?lang=en")
    assert english[0] == HEADINGS_EN and english[1][2] == "no"
    book = load_workbook(io.BytesIO(client.get(url + "?lang=en").get_data()))
    assert book.worksheets[0].cell(row=2, column=4).number_format.startswith("yyyy-mm-dd")


def test_csv_keeps_iso_dates_for_programs(
    login: Callable[[str], FlaskClient], published: dict  # type: ignore[type-arg]  # noqa: F811
) -> None:
    _county_confirms(login, published["release"])
    text = login("publisher").get(f"/releases/{published['release']}/coverage.csv")
    line = text.get_data(as_text=True).splitlines()[1].split(",")
    assert line[:3] == ["c1", "甲县", "否"]
    assert datetime.fromisoformat(line[3])  # ISO 8601


def test_xlsx_cells_are_never_formulas(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    with runtime.db.session() as s:
        county = s.query(County).filter_by(code="c1").one()
        county.name = '=HYPERLINK("http://evil.example/","点我")'
        s.commit()
    release_id = _legacy_release(runtime, "+2026年第1期", "")
    login("publisher")
    for url in ("/releases/utilisation.xlsx", f"/releases/{release_id}/coverage.xlsx"):
        book = load_workbook(io.BytesIO(client.get(url).get_data()))
        cells = [c for row in book.worksheets[0].iter_rows() for c in row]
        evil = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
        assert evil and all(c.data_type == "s" for c in evil), url  # text, not a formula
        assert not any(c.data_type == "f" for c in cells), url
