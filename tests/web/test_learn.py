"""Online learning in the web app: learners sign in with their phone, see their county's
films; county staff import learners (dry run first), add one, and export study hours."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from mam.models import AuditEvent, Role
from mam.models.learning import Learner, StudyRecord
from mam.services.users import UserService
from tests.mam.learning_world import LearningWorld, build, xlsx_bytes
from tests.web.conftest import PASSWORD, csrf_from

LEARNER_PASSWORD = "long password 1"  # learning_world's learner1 (13800000001)


@pytest.fixture
def world(app: Flask) -> LearningWorld:
    runtime = app.extensions["mam"]
    with runtime.db.session() as s:
        world = build(s)
        staff = UserService(s).by_username("staff1")
        assert staff is not None
        staff.password_hash = UserService(s).by_username("county").password_hash  # type: ignore[union-attr]
        s.commit()
        return world


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> str:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def test_a_learner_signs_in_with_the_phone_and_sees_the_countys_films(
    client: FlaskClient, world: LearningWorld
) -> None:
    assert sign_in(client, "13800000001", LEARNER_PASSWORD) == "/learn/"
    page = client.get("/learn/").get_data(as_text=True)
    shown = re.findall(r'data-testid="learn-film" data-episode="(\d+)"', page)
    assert sorted(map(int, shown)) == sorted([world.shown.episode_id, world.everywhere.episode_id])
    assert "乡村振兴 第1集" in page and "乙县专供" not in page and "草稿里的" not in page
    episode = client.get(f"/learn/episodes/{world.shown.episode_id}")
    assert episode.status_code == 200
    html = episode.get_data(as_text=True)
    assert f'data-hls-src="/media/versions/{world.shown.id}/hls/web/master.m3u8"' in html
    for hidden in (world.other, world.draft, world.withdrawn, world.no_ladder):
        assert client.get(f"/learn/episodes/{hidden.episode_id}").status_code == 404
    # Staff pages stay shut.
    for path in ("/search", "/county/", "/county/learners/", "/releases/"):
        assert client.get(path).status_code == 403, path
    front = client.get("/")  # the site's address leads to the portal, shows no staff page
    assert (front.status_code, front.headers["Location"]) == (302, "/learn/")


def test_a_heartbeat_needs_csrf_and_json_and_is_capped(
    client: FlaskClient, world: LearningWorld, app: Flask
) -> None:
    sign_in(client, "13800000001", LEARNER_PASSWORD)
    page = client.get(f"/learn/episodes/{world.shown.episode_id}").get_data(as_text=True)
    url = f"/learn/episodes/{world.shown.episode_id}/progress"
    assert client.post(url, json={"watched": 5, "position": 5}).status_code == 400  # no CSRF
    headers = {"X-CSRFToken": csrf_from(page)}
    assert client.post(url, data="x", headers=headers).status_code == 400
    bad = client.post(url, json={"watched": "nan", "position": 1}, headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]
    # Nothing was served: a claim of 60 s is worth nothing.
    claim = client.post(url, json={"watched": 60, "position": 60}, headers=headers)
    assert claim.status_code == 200
    assert claim.get_json() == {
        "watched_seconds": 0.0, "duration": 100.0, "position": 60.0, "completed": False
    }  # fmt: skip
    other = client.post(
        f"/learn/episodes/{world.other.episode_id}/progress", json={"watched": 1, "position": 1},
        headers=headers,
    )  # fmt: skip
    assert other.status_code == 404
    with app.extensions["mam"].db.session() as s:
        rows = s.scalars(select(StudyRecord)).all()
        assert [(r.episode_id, r.position) for r in rows] == [(world.shown.episode_id, 60.0)]


def xlsx(rows: list[list[object]]) -> io.BytesIO:
    return io.BytesIO(xlsx_bytes(rows))


def test_county_staff_import_learners_dry_run_first_then_for_real(
    client: FlaskClient, world: LearningWorld, app: Flask
) -> None:
    sign_in(client, "staff1")
    token = csrf_from(client.get("/county/learners/").get_data(as_text=True))
    rows = [["姓名", "手机号", "初始密码"], ["周七", "13700000007", None], ["吴八", "137", None]]

    def send(dry_run: bool) -> tuple[int, str]:
        data = {"csrf_token": token, "sheet": (xlsx(rows), "学员.xlsx")}
        if dry_run:
            data["dry_run"] = "1"
        r = client.post("/county/learners/import", data=data, content_type="multipart/form-data")
        return r.status_code, r.get_data(as_text=True)

    status, page = send(dry_run=True)
    assert status == 200 and 'data-testid="learners-report"' in page
    assert "137 不是 11 位手机号码。" in page
    status, page = send(dry_run=False)  # a bad row: nothing is created
    assert status == 400 and 'data-testid="learner-created"' not in page
    rows.pop()
    status, page = send(dry_run=True)
    assert status == 200 and 'data-testid="learner-created"' not in page
    with app.extensions["mam"].db.session() as s:
        assert s.scalar(select(Learner).where(Learner.phone == "13700000007")) is None
    data = {"csrf_token": token, "sheet": (xlsx(rows), "学员.xlsx")}
    response = client.post("/county/learners/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    shown = re.findall(r'data-testid="learner-password">([^<]+)<', response.get_data(as_text=True))
    assert len(shown) == 1 and len(shown[0]) == 16
    # The generated password is shown once; the learner must change it on first sign-in.
    learner = client.application.test_client()
    assert sign_in(learner, "13700000007", shown[0]) == "/account/password"
    assert learner.get("/learn/").status_code == 302
    again = client.get("/county/learners/").get_data(as_text=True)
    assert "周七" in again and shown[0] not in again  # listed, the password never again


def test_one_learner_by_form_and_the_study_hours_export(
    client: FlaskClient, world: LearningWorld, app: Flask
) -> None:
    sign_in(client, "staff1")
    token = csrf_from(client.get("/county/learners/").get_data(as_text=True))
    form = {"csrf_token": token, "name": "郑九", "phone": "13600000009", "password": ""}
    made = client.post("/county/learners/", data=form)
    assert made.status_code == 200 and 'data-testid="learner-password"' in made.get_data(
        as_text=True
    )
    again = client.post("/county/learners/", data=form)
    assert again.status_code == 409
    listed = client.get("/county/learners/").get_data(as_text=True)
    phones = re.findall(r'data-testid="learner-row" data-phone="(\d+)"', listed)
    assert sorted(phones) == ["13600000009", "13800000001"]  # c1's learners, not c2's
    sheet = client.get("/county/learners/export.xlsx")
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.data))
    values = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert values[0] == ["姓名", "手机号", "学习时长（小时）", "完成影片数"]
    assert sorted(v[1] for v in values[1:]) == ["13600000009", "13800000001"]
    text = client.get("/county/learners/export.csv?month=2026-12").get_data(as_text=True)
    assert text.splitlines()[0] == "name,phone,hours,completions"
    assert client.get("/county/learners/export.csv?month=2026-13").status_code == 400
    assert client.get("/county/learners/export.pdf").status_code == 404
    with app.extensions["mam"].db.session() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.actor_id.is_not(None)))
        assert {"learner_created", "study_exported"} <= set(actions)


def test_learner_accounts_cannot_be_made_by_other_roles(
    app: Flask, client: FlaskClient, world: LearningWorld
) -> None:
    sign_in(client, "producer")
    token = csrf_from(client.get("/account").get_data(as_text=True))
    form = {"csrf_token": token, "name": "x", "phone": "13600000008"}
    assert client.post("/county/learners/", data=form).status_code == 403
    with app.extensions["mam"].db.session() as s:
        assert s.scalar(select(Learner).where(Learner.phone == "13600000008")) is None
        assert Role.LEARNER not in UserService(s).by_username("producer").roles  # type: ignore[union-attr]


def test_staff_give_a_learner_a_new_password_only_in_their_county(
    app: Flask, client: FlaskClient, world: LearningWorld
) -> None:
    with app.extensions["mam"].db.session() as s:
        learner1 = s.scalar(select(Learner).where(Learner.phone == "13800000001"))
        learner2 = s.scalar(select(Learner).where(Learner.phone == "13800000002"))
        assert learner1 is not None and learner2 is not None
        ids = (learner1.id, learner2.id)
    phone = app.test_client()
    sign_in(phone, "13800000001", LEARNER_PASSWORD)
    sign_in(client, "staff1")
    token = csrf_from(client.get("/county/learners/").get_data(as_text=True))
    other = client.post(f"/county/learners/{ids[1]}/password", data={"csrf_token": token})
    assert other.status_code == 404  # a learner of c2
    made = client.post(f"/county/learners/{ids[0]}/password", data={"csrf_token": token})
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    shown = re.findall(r'data-testid="learner-password">([^<]+)<', made.get_data(as_text=True))
    assert len(shown) == 1
    assert phone.get("/learn/").status_code == 302  # the learner's open session has ended
    fresh = app.test_client()
    token = csrf_from(fresh.get("/login").get_data(as_text=True))
    old = {"username": "13800000001", "password": LEARNER_PASSWORD, "csrf_token": token}
    assert fresh.post("/login", data=old).status_code == 401
    assert sign_in(fresh, "13800000001", shown[0]) == "/account/password"
