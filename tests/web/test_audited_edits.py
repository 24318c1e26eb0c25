"""Title edits (metadata form and API alike) and taxonomy changes go through one service each,
with the same validation, and every one is audited."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from mam.models import AuditEvent, Episode
from mam.runtime import Runtime
from tests.web.conftest import csrf_from
from tests.web.test_metadata import make_episode
from tests.web.test_upload import token_for


def _audit(runtime: Runtime, action: str) -> list[tuple[int | None, dict[str, object]]]:
    with runtime.db.session() as s:
        rows = s.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        return [(r.object_id, r.details) for r in rows]


def test_a_title_changes_the_same_way_from_the_form_and_the_api(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    first = make_episode(runtime, "果树栽培")
    make_episode(runtime, "田间课堂")
    login("producer")
    page = client.get(f"/episodes/{first}").get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), "title": "  果树栽培（修订） "}
    r = client.post(f"/episodes/{first}/metadata", data=form)
    assert r.status_code == 302
    auth = {**token_for(runtime, "producer"), "Accept-Language": "en"}
    r = client.patch(f"/api/v1/episodes/{first}", json={"title": "果树栽培 第二版"}, headers=auth)
    assert r.status_code == 200 and r.json["title"] == "果树栽培 第二版"
    assert _audit(runtime, "title_changed") == [
        (first, {"before": "果树栽培", "title": "果树栽培（修订）"}),
        (first, {"before": "果树栽培（修订）", "title": "果树栽培 第二版"}),
    ]
    # The same refusal both ways: the programme already has an episode of that name.
    r = client.patch(f"/api/v1/episodes/{first}", json={"title": "田间课堂"}, headers=auth)
    assert r.status_code == 409 and "already has an episode called 田间课堂" in r.json["error"]
    page = client.get(f"/episodes/{first}").get_data(as_text=True)
    shown = client.post(f"/episodes/{first}/metadata",
                        data={"csrf_token": csrf_from(page), "title": "田间课堂"},
                        follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "田间课堂" in shown and "未保存" in shown
    with runtime.db.session() as s:
        assert s.get_one(Episode, first).title == "果树栽培 第二版"
    assert len(_audit(runtime, "title_changed")) == 2


def test_taxonomy_changes_are_audited(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    login("admin")
    token = csrf_from(client.get("/topics").get_data(as_text=True))

    def post(**data: object) -> str:
        return client.post(
            "/topics", data={"csrf_token": token, **data}, follow_redirects=True
        ).get_data(as_text=True)

    post(action="add", name="乡村振兴")
    [(topic_id, details)] = _audit(runtime, "topic_created")
    assert details == {"name": "乡村振兴"}
    post(action="rename", topic_id=topic_id, name="乡村振兴战略")
    post(action="toggle", topic_id=topic_id)
    post(action="toggle", topic_id=topic_id)
    assert _audit(runtime, "topic_renamed") == [
        (topic_id, {"before": "乡村振兴", "name": "乡村振兴战略"})
    ]
    assert _audit(runtime, "topic_retired") == [(topic_id, {"name": "乡村振兴战略"})]
    assert _audit(runtime, "topic_restored") == [(topic_id, {"name": "乡村振兴战略"})]
    # Refusals change nothing and say why, in Chinese.
    assert "该主题已存在。" in post(action="add", name="乡村振兴战略")
    assert "主题名称须为 1 至 100 个字符。" in post(action="add", name="   ")
    assert len(_audit(runtime, "topic_created")) == 1
    missing = client.post("/topics", data={"csrf_token": token, "action": "rename",
                                           "topic_id": 999999, "name": "x"})  # fmt: skip
    assert missing.status_code == 404
