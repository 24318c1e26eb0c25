"""Licences on the pages: the form on the episode page (editors only), badges, and the
release page refusing an out-of-licence episode with the reason in Chinese."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mam.models import County, Episode, Programme, SourceType, User, VersionState
from mam.models.licence import Licence
from mam.models.release import ReleaseSet
from mam.runtime import Runtime
from tests import factories
from tests.web.conftest import csrf_from


@pytest.fixture
def imported(app: Flask, runtime: Runtime) -> dict[str, int]:
    """An approved imported episode of a programme the producer keeps; no licence yet."""
    with runtime.db.session() as s:
        v = factories.version(s, VersionState.APPROVED, programme="引进纪录片", title="大国粮仓")
        v.episode.source_type = SourceType.IMPORTED
        v.asset.media_info = {"duration": 2.0, "container": "mp4", "video": [], "audio": []}
        producer = s.scalar(select(User).where(User.username == "producer"))
        programme = s.get_one(Programme, v.episode.programme_id)
        programme.producer_id = producer.id  # type: ignore[union-attr]
        s.commit()
        counties = {c.code: c.id for c in s.scalars(select(County))}
        return {"version": v.id, "episode": v.episode_id, **counties}


def post(client: FlaskClient, url: str, data: dict, page: str) -> object:  # type: ignore[type-arg]
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def flashes(client: FlaskClient, page: str) -> list[str]:
    html = client.get(page).get_data(as_text=True)
    found = re.findall(r'class="flash error"[^>]*>(.*?)</', html, re.S)
    return [re.sub(r"\s+", " ", m).strip() for m in found]


def test_the_release_page_refuses_with_the_reason_in_chinese(
    app: Flask, runtime: Runtime, login: Callable[[str], FlaskClient], imported: dict[str, int]
) -> None:
    publisher = login("publisher")
    response = post(publisher, "/releases/", {"name": "2027年第1期"}, "/releases/")
    rid = int(response.location.rstrip("/").rsplit("/", 1)[-1])  # type: ignore[attr-defined]
    page = f"/releases/{rid}"
    c1 = {"county": str(imported["c1"])}
    assert post(publisher, f"{page}/targets", c1, page).status_code == 302
    # No licence: the episode stays out, the page says why.
    item = {"version_id": str(imported["version"])}
    response = post(publisher, f"{page}/items", item, page)
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response.location.endswith(page)  # type: ignore[attr-defined]
    assert flashes(publisher, page) == [
        "《大国粮仓》不能在此发布：该片属于引进或省市通用教材，尚未录入版权许可；请先在节目页面录入许可。"
    ]
    # The producer enters a licence for 甲县 only, for every use.
    producer = login("producer")
    episode_page = f"/episodes/{imported['episode']}"
    form = {"holder": "中央新影", "contract_ref": "ZX-2027-01", "starts_on": "2026-01-01",
            "ends_on": "2099-12-31", "uses": ["tv", "playback", "web"],
            "county": str(imported["c1"])}  # fmt: skip
    assert post(producer, f"{episode_page}/licence", form, episode_page).status_code == 302
    html = producer.get(episode_page).get_data(as_text=True)
    assert 'data-licence="valid"' in html and "ZX-2027-01" in html
    # The publisher adds it; targeting 乙县 as well is refused, with the reason.
    publisher = login("publisher")
    assert post(publisher, f"{page}/items", item, page).status_code == 302  # type: ignore[attr-defined]
    both = {"county": [str(imported["c1"]), str(imported["c2"])]}
    post(publisher, f"{page}/targets", both, page)
    assert flashes(publisher, page) == ["《大国粮仓》不能在此发布：许可范围不包括乙县。"]
    post(publisher, f"{page}/targets", {"all": "1"}, page)
    assert flashes(publisher, page) == [
        "《大国粮仓》不能在此发布：许可范围仅限部分县，不能发往全部县。"
    ]
    html = publisher.get(page).get_data(as_text=True)
    assert 'data-licence="valid"' in html
    assert post(publisher, f"{page}/publish", {}, page).status_code == 302
    with runtime.db.session() as s:
        release = s.get_one(ReleaseSet, rid)
        assert release.state.value == "published"
        assert [t.county_id for t in release.targets] == [imported["c1"]]


def test_the_licence_form_keeps_bad_input_out_and_refuses_other_roles(
    app: Flask, runtime: Runtime, login: Callable[[str], FlaskClient], imported: dict[str, int]
) -> None:
    producer = login("producer")
    page = f"/episodes/{imported['episode']}"
    html = producer.get(page).get_data(as_text=True)
    assert 'data-licence="none"' in html and 'data-testid="licence-missing"' in html
    bad = {"holder": "中央新影", "starts_on": "2027-05-01", "ends_on": "2027-04-30", "uses": ["tv"],
           "all_counties": "1"}  # fmt: skip
    assert post(producer, f"{page}/licence", bad, page).status_code == 302
    assert flashes(producer, page) == [
        "许可未保存：许可的截止日期（2027-04-30）不能早于起始日期（2027-05-01）。"
    ]
    post(producer, f"{page}/licence", {**bad, "ends_on": "2027-13-40"}, page)
    assert len(flashes(producer, page)) == 1  # a date that does not exist: said, not a 500
    post(producer, f"{page}/licence", {**bad, "ends_on": "2027-06-30", "uses": []}, page)
    assert flashes(producer, page) == ["许可未保存：请至少选择一种用途。"]
    with runtime.db.session() as s:
        assert s.scalar(select(Licence.id)) is None
    # The whole programme's licence, inherited by the episode.
    good = {**bad, "ends_on": "2027-06-30", "scope": "programme"}
    post(producer, f"{page}/licence", good, page)
    html = producer.get(page).get_data(as_text=True)
    assert "整个栏目《引进纪录片》" in html
    with runtime.db.session() as s:
        licence = s.scalars(select(Licence)).one()
        episode = s.get_one(Episode, imported["episode"])
        assert (licence.programme_id, licence.episode_id) == (episode.programme_id, None)
    reviewer = login("reviewer")
    html = reviewer.get(page).get_data(as_text=True)
    assert 'data-testid="licence-form"' not in html and "中央新影" in html
    assert post(reviewer, f"{page}/licence", good, page).status_code == 403  # type: ignore[attr-defined]
    gone = post(reviewer, f"{page}/licence/delete", {"scope": "programme"}, page)
    assert gone.status_code == 403  # type: ignore[attr-defined]
    admin = login("admin")
    post(admin, f"{page}/licence/delete", {"scope": "programme"}, page)
    with runtime.db.session() as s:
        assert s.scalar(select(Licence.id)) is None
