"""The learner pages: a sheet's 网点 column, the edit form's refusals (translated, no 500)."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mam.models import County
from mam.models.learning import Learner
from mam.models.network import PlaybackPoint, PointKind, Township
from tests.web.conftest import PASSWORD, csrf_from


def _points(app: Flask) -> tuple[int, int]:
    with app.extensions["mam"].db.session() as s:
        town = s.scalar(select(Township).where(Township.name == "城关镇电教站"))
        c2 = s.scalar(select(County).where(County.code == "c2"))
        assert town is not None and c2 is not None
        other = Township(county_id=c2.id, name="乙镇")
        s.add(other)
        s.flush()
        ours = PlaybackPoint(township_id=town.id, name="东村播放点", kind=PointKind.VILLAGE)
        theirs = PlaybackPoint(township_id=other.id, name="乙村播放点", kind=PointKind.VILLAGE)
        s.add_all([ours, theirs])
        s.flush()
        return ours.id, theirs.id


def _sign_in(client: FlaskClient) -> str:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "county", "password": PASSWORD, "csrf_token": token})
    return csrf_from(client.get("/county/learners/").get_data(as_text=True))


def test_sheet_points_and_the_edit_form(client: FlaskClient, app: Flask) -> None:
    ours, theirs = _points(app)
    token = _sign_in(client)
    sheet = "姓名,手机号,网点\n周七,13700000007,东村播放点\n吴八,13700000008,乙村播放点\n"

    def send(text: str, dry_run: bool) -> tuple[int, str]:
        data = {"csrf_token": token, "sheet": (io.BytesIO(text.encode()), "学员.csv")}
        if dry_run:
            data["dry_run"] = "1"
        r = client.post("/county/learners/import", data=data, content_type="multipart/form-data")
        return r.status_code, r.get_data(as_text=True)

    status, page = send(sheet, dry_run=True)
    assert status == 200 and "本县没有名为“乙村播放点”的在用播放网点。" in page
    status, _page = send(sheet.rsplit("吴八", 1)[0], dry_run=False)
    assert status == 200
    with app.extensions["mam"].db.session() as s:
        learner = s.scalar(select(Learner).where(Learner.phone == "13700000007"))
        assert learner is not None and learner.point_id == ours
        lid = learner.id
    page = client.get(f"/county/learners/{lid}").get_data(as_text=True)
    assert "东村播放点" in page and "乙村播放点" not in page  # only the county's points
    form = {"csrf_token": token, "name": "周七", "phone": "13700000007", "point": str(theirs)}
    response = client.post(f"/county/learners/{lid}", data=form)
    assert response.status_code == 400
    assert "请选择学员所在县的在用播放网点。" in response.get_data(as_text=True)
    for bad in ("x", "１２", "9" * 40):
        assert (
            client.post(f"/county/learners/{lid}", data={**form, "point": bad}).status_code == 400
        )
    response = client.post(f"/county/learners/{lid}", data={**form, "point": ""})
    assert response.status_code == 302
    with app.extensions["mam"].db.session() as s:
        assert s.get(Learner, lid).point_id is None  # type: ignore[union-attr]
    listing = client.get("/county/learners/").get_data(as_text=True)
    assert 'data-testid="learners-by-point"' in listing and "（未分配网点）" in listing
