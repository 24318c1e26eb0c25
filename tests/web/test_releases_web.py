from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mam.models import County, Role
from mam.models.release import Download, PackageKind, ReleaseSet
from mam.runtime import Runtime
from mam.services.packaging import PackageBuilder
from mam.services.users import UserService
from tests.mam.test_releases import approved_version
from tests.web.conftest import PASSWORD, csrf_from


def post(
    client: FlaskClient,
    url: str,
    data: dict | None = None,  # type: ignore[type-arg]
    page: str = "/",
) -> object:
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})})


@pytest.fixture
def published(
    app: Flask, runtime: Runtime, login: Callable[[str], FlaskClient], clip: Path, tmp_path: Path
) -> dict:  # type: ignore[type-arg]
    with runtime.db.session() as s:
        vid = approved_version(s, runtime, clip, "乡村振兴 第1集").id
        c1 = s.scalar(select(County.id).where(County.code == "c1"))
        UserService(s).create("county2", PASSWORD, [Role.COUNTY], county_code="c2")
    client = login("publisher")
    response = post(
        client, "/releases/", {"name": "2026年第12期", "notes": "十二月"}, page="/releases/"
    )
    assert response.status_code == 302
    rid = int(response.location.rstrip("/").rsplit("/", 1)[-1])
    page = f"/releases/{rid}"
    assert post(client, f"{page}/items", {"version_id": str(vid)}, page).status_code == 302
    assert post(client, f"{page}/targets", {"county": str(c1)}, page).status_code == 302
    assert post(client, f"{page}/publish", {}, page).status_code == 302
    with runtime.db.session() as s:
        release = s.get_one(ReleaseSet, rid)
        assert release.state.value == "published"
        tv = next(p for p in release.packages if p.kind == PackageKind.TV)
        PackageBuilder(s, runtime.storage, tmp_path / "work").build(tv.id)
        info = {
            "release": rid,
            "tv": tv.id,
            "size": tv.size,
            "bytes": runtime.storage.local_path(tv.storage_key).read_bytes(),
        }  # type: ignore[union-attr]
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    return info


def test_publisher_pages_show_the_set(login: Callable[[str], FlaskClient], published: dict) -> None:  # type: ignore[type-arg]
    html = login("publisher").get(f"/releases/{published['release']}").get_data(as_text=True)
    assert "2026年第12期" in html and "乡村振兴 第1集" in html and "已发布" in html
    assert 'data-county="c1"' in html and 'data-county="c2"' not in html


def test_county_downloads_resumably_and_confirms(
    login: Callable[[str], FlaskClient], runtime: Runtime, published: dict
) -> None:  # type: ignore[type-arg]
    client = login("county")
    html = client.get("/county/").get_data(as_text=True)
    assert "2026年第12期" in html and f"/county/packages/{published['tv']}/download" in html
    url = f"/county/packages/{published['tv']}/download"
    full, size = published["bytes"], published["size"]
    with client.get(url) as first:
        assert first.status_code == 200 and first.headers["Accept-Ranges"] == "bytes"
        assert "attachment" in first.headers["Content-Disposition"]
        etag = first.headers["ETag"]
        assert first.get_data()[:2] == b"PK"
    with client.get(url, headers={"Range": "bytes=100-", "If-Range": etag}) as resumed:
        assert resumed.status_code == 206 and resumed.get_data() == full[100:]
    with client.get(url, headers={"Range": f"bytes={size + 5}-"}) as beyond:
        assert beyond.status_code == 416
    for malformed in ("bytes=abc-", "bytes=9-3", "pages=1-2"):
        with client.get(url, headers={"Range": malformed}) as bad:
            assert bad.status_code == 416, malformed
    with runtime.db.session() as s:
        rows = s.scalars(select(Download).order_by(Download.id)).all()
        assert [(r.range_start, r.bytes_sent, r.completed) for r in rows] == [
            (0, size, True),
            (100, size - 100, False),  # the county already had every byte
        ]
    response = post(client, f"/county/releases/{published['release']}/receipt", page="/county/")
    assert response.status_code == 302
    assert 'data-testid="receipt-done"' in client.get("/county/").get_data(as_text=True)
    feed = client.get("/county/feed.atom").get_data(as_text=True)
    assert "2026年第12期" in feed and f"/county/packages/{published['tv']}/download" in feed
    data = client.get("/county/releases.json").get_json()
    packages = {p["kind"]: p for p in data["releases"][0]["packages"]}
    assert packages["tv"]["sha256"] and packages["tv"]["state"] == "ready"
    assert packages["web"]["state"] == "queued" and packages["web"]["sha256"] is None


def test_other_counties_and_roles_are_refused(
    login: Callable[[str], FlaskClient], published: dict
) -> None:  # type: ignore[type-arg]
    url = f"/county/packages/{published['tv']}/download"
    other = login("county2")
    assert "2026年第12期" not in other.get("/county/").get_data(as_text=True)
    assert other.get(url).status_code == 404
    assert other.get(f"/releases/{published['release']}").status_code == 403
    assert (
        post(other, f"/county/releases/{published['release']}/receipt", page="/county/").status_code
        == 404
    )


def test_withdrawn_release_blocks_downloads(
    login: Callable[[str], FlaskClient], published: dict
) -> None:  # type: ignore[type-arg]
    publisher = login("publisher")
    page = f"/releases/{published['release']}"
    refused = post(publisher, f"{page}/withdraw", {"reason": ""}, page)
    assert refused.status_code == 302 and refused.location.endswith(page)  # type: ignore[attr-defined]
    shown = publisher.get(page).get_data(as_text=True)
    assert "撤回供片批次需要填写原因" in shown and "已发布" in shown
    assert post(publisher, f"{page}/withdraw", {"reason": "数据有误"}, page).status_code == 302
    publisher.post(
        "/logout", data={"csrf_token": csrf_from(publisher.get("/").get_data(as_text=True))}
    )
    county = login("county")
    assert "数据有误" in county.get("/county/").get_data(as_text=True)
    refused = county.get(f"/county/packages/{published['tv']}/download")
    assert refused.status_code == 403 and "数据有误" in refused.get_data(as_text=True)


def test_coverage_csv(login: Callable[[str], FlaskClient], published: dict) -> None:  # type: ignore[type-arg]
    county = login("county")
    post(county, f"/county/releases/{published['release']}/receipt", page="/county/")
    county.post(
        "/logout", data={"csrf_token": csrf_from(county.get("/county/").get_data(as_text=True))}
    )
    publisher = login("publisher")
    body = publisher.get(f"/releases/{published['release']}/coverage.csv")
    text = body.get_data(as_text=True)  # Chinese by default, as the tables on screen
    assert text.startswith(
        "\ufeff县代码,县,已下载,确认接收时间,逾期,需复制套数,放映场次,观众人数\r\n"
    )
    assert "c1,甲县,否," in text
    english = publisher.get(f"/releases/{published['release']}/coverage.csv?lang=en")
    text = english.get_data(as_text=True)
    assert text.startswith(
        "\ufeffCounty code,County,Downloaded,Receipt confirmed on,Overdue,Copies needed,"
        "Screenings,Viewers\r\n"
    )
    assert "c1,甲县,no," in text


def test_dashboard_chart_history_and_profile(
    login: Callable[[str], FlaskClient], runtime: Runtime, published: dict
) -> None:  # type: ignore[type-arg]
    county = login("county")
    post(county, f"/county/releases/{published['release']}/receipt", page="/county/")
    post(
        county,
        f"/county/releases/{published['release']}/screenings",
        {"screened_on": "2026-11-20", "place": "城关镇", "viewers": "120"},
        page="/county/",
    )
    bad = post(
        county,
        f"/county/releases/{published['release']}/screenings",
        {"screened_on": "2026-11-20", "place": "城关镇", "viewers": "很多"},
        page="/county/",
    )
    assert bad.status_code == 400
    county.post(
        "/logout", data={"csrf_token": csrf_from(county.get("/county/").get_data(as_text=True))}
    )
    client = login("publisher")
    html = client.get("/releases/dashboard").get_data(as_text=True)
    assert 'data-testid="coverage-chart"' in html and "100%" in html and "120" in html
    with runtime.db.session() as s:
        c1 = s.scalar(select(County).where(County.code == "c1"))
        assert c1 is not None
        cid = c1.id
    page = f"/releases/counties/{cid}"
    assert post(client, page, {"villages": "30", "playback_points": "12"}, page).status_code == 302
    history = client.get(page).get_data(as_text=True)
    assert "2026年第12期" in history and 'value="30"' in history
    assert ">10<" in history  # 30 villages / 3 per set
    text = client.get("/releases/utilisation.csv").get_data(as_text=True)
    assert "2026年第12期" in text and ",c1,甲县,否," in text and ",1,120,10" in text


def test_a_refusal_on_the_release_page_is_shown_there_and_changes_nothing(
    login: Callable[[str], FlaskClient], runtime: Runtime
) -> None:
    """Publishing a set with no episode, or with no county, says why on the set's own page
    (a first-day publisher is not sent to an error page that leads back to the catalogue)."""
    client = login("publisher")
    created = post(client, "/releases/", {"name": "2027年第1期"}, page="/releases/")
    page = created.location  # type: ignore[attr-defined]
    refused = post(client, f"{page}/publish", {}, page)
    assert refused.status_code == 302 and refused.location.endswith(page)  # type: ignore[attr-defined]
    shown = client.get(page).get_data(as_text=True)
    assert "供片批次至少要有一集节目" in shown and 'class="flash error"' in shown
    with runtime.db.session() as s:
        release = s.scalar(select(ReleaseSet).where(ReleaseSet.name == "2027年第1期"))
        assert release is not None and release.state.value == "draft"
