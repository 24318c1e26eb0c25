"""The station-logo pages: an admin sets a county's logo, a bad file is refused in the
reader's language and changes nothing, other roles are refused, a draft set takes its own."""

from __future__ import annotations

import io
from collections.abc import Callable

from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from mam.models import County
from mam.models.release import ReleaseSet
from mam.runtime import Runtime
from tests.web.conftest import csrf_from


def png(mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (64, 32), (255, 0, 0, 200) if mode == "RGBA" else (255, 0, 0)).save(
        out, format="PNG"
    )
    return out.getvalue()


def county_id(runtime: Runtime, code: str = "c1") -> int:
    with runtime.db.session() as s:
        return s.scalar(select(County.id).where(County.code == code)) or 0


def upload(client: FlaskClient, url: str, data: bytes, name: str, page: str) -> str:
    token = csrf_from(client.get(page).get_data(as_text=True))
    response = client.post(
        url,
        data={"csrf_token": token, "logo": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers={"Accept-Language": "zh-CN"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_admin_sets_and_clears_a_county_logo(
    login: Callable[[str], FlaskClient], runtime: Runtime
) -> None:
    admin = login("admin")
    cid = county_id(runtime)
    url = f"/branding/county/{cid}"
    html = upload(admin, url, png("RGB"), "../../无透明.png", "/branding/")
    assert "没有透明通道" in html and "无透明.png" in html
    with runtime.db.session() as s:
        assert s.get_one(County, cid).logo_key is None  # nothing kept
    html = upload(admin, url, b"<svg/>", "x.png", "/branding/")
    assert "不是 PNG 图片" in html
    html = upload(admin, url, png(), "台标.png", "/branding/")
    assert "台标已保存" in html
    with runtime.db.session() as s:
        key = s.get_one(County, cid).logo_key
    assert key and key.startswith("branding/logos/")
    image = admin.get(f"/branding/county/{cid}/logo.png")
    assert image.status_code == 200 and image.data == png()
    token = csrf_from(admin.get("/branding/").get_data(as_text=True))
    admin.post(url, data={"csrf_token": token, "clear": "1"})
    with runtime.db.session() as s:
        assert s.get_one(County, cid).logo_key is None


def test_only_admins_set_county_logos(
    login: Callable[[str], FlaskClient], runtime: Runtime
) -> None:
    cid = county_id(runtime)
    for name in ("county", "publisher", "producer"):
        client = login(name)
        assert client.get("/branding/").status_code == 403
        token = csrf_from(client.get("/account").get_data(as_text=True))
        response = client.post(
            f"/branding/county/{cid}",
            data={"csrf_token": token, "logo": (io.BytesIO(png()), "a.png")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 403
        client.post("/logout", data={"csrf_token": token})
    with runtime.db.session() as s:
        assert s.get_one(County, cid).logo_key is None


def test_a_draft_release_takes_its_own_logo(
    login: Callable[[str], FlaskClient], runtime: Runtime
) -> None:
    publisher = login("publisher")
    token = csrf_from(publisher.get("/releases/").get_data(as_text=True))
    publisher.post("/releases/", data={"csrf_token": token, "name": "2026年第15期"})
    with runtime.db.session() as s:
        rid = s.scalar(select(ReleaseSet.id).where(ReleaseSet.name == "2026年第15期"))
    page = f"/releases/{rid}"
    assert 'data-testid="release-logo"' in publisher.get(page).get_data(as_text=True)
    html = upload(publisher, f"/branding/release/{rid}", png(), "set.png", page)
    assert "台标已保存" in html
    assert publisher.get(f"/branding/release/{rid}/logo.png").status_code == 200
