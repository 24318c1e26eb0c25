"""Labels true to the content: packages named by what their files hold, profile names per
language from the profiles file, package state as counties see it, questions before
publishing and withdrawing, chart labels whole, 名称 where a name is not a person's."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from mam.models import Rendition, User
from mam.runtime import Runtime
from mam.services.releases import ReleaseService
from tests.web.conftest import csrf_from
from tests.web.county_fixtures import CountyWorld, build_world
from tests.web.test_county_page import signed_in


def _world_with_a_720p_broadcast(runtime: Runtime) -> CountyWorld:
    world = build_world(runtime, 20_000)
    with runtime.db.session() as s:
        s.add(Rendition(version_id=world.version, profile="broadcast", mime_type="video/mp4",
                        storage_key=f"renditions/{world.version}/broadcast/broadcast.mp4",
                        size=1000, width=1280, height=720, bit_rate=2_500_000,
                        media_info={"video": [{"codec": "h264"}]}))  # fmt: skip
        s.commit()
    return world


def test_packages_are_named_by_what_their_files_hold(runtime: Runtime) -> None:
    world = _world_with_a_720p_broadcast(runtime)
    publisher = signed_in(world, "publisher")
    page = publisher.get(f"/releases/{world.release}").get_data(as_text=True)
    labels = re.findall(r'data-testid="package-label">([^<]+)<', page)
    assert "电视台播出版（1280×720 H.264 2.5 Mb/s）" in labels
    assert not any("1080p" in label for label in labels)
    county = signed_in(world, "county").get("/county/").get_data(as_text=True)
    assert "电视台播出版（1280×720 H.264 2.5 Mb/s）" in county


def test_after_a_withdrawal_the_publisher_sees_what_counties_see(runtime: Runtime) -> None:
    world = _world_with_a_720p_broadcast(runtime)
    publisher = signed_in(world, "publisher")
    before = publisher.get(f"/releases/{world.release}").get_data(as_text=True)
    assert "可下载" in before.split('data-testid="packages"')[1].split("</table>")[0]
    with runtime.db.session() as s:
        svc = ReleaseService(s)
        actor = s.scalar(select(User).where(User.username == "publisher"))
        assert actor is not None
        svc.withdraw(svc.get(world.release), "片源有误", actor)
    county = signed_in(world, "county")
    assert county.get(world.url).status_code in (403, 404)  # counties cannot download
    table = publisher.get(f"/releases/{world.release}").get_data(as_text=True)
    table = table.split('data-testid="packages"')[1].split("</table>")[0]
    states = re.findall(r'data-testid="package-state">([^<]+)', table)
    assert states and all(s.strip() == "已撤回：各县已不能下载" for s in states)
    assert "可下载" not in table


def test_publish_and_withdraw_ask_first(runtime: Runtime) -> None:
    world = build_world(runtime, 20_000)
    publisher = signed_in(world, "publisher")
    page = publisher.get(f"/releases/{world.release}").get_data(as_text=True)
    assert 'data-confirm="撤回“2026年第12期”吗？撤回后各县将不能再下载其供片包。"' in page
    html = publisher.get("/releases/").get_data(as_text=True)
    r = publisher.post("/releases/", data={"csrf_token": csrf_from(html), "name": "2027年第1期"})
    draft = publisher.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-confirm="现在向各县发布“2027年第1期”吗？发布后不能再修改。"' in draft
    script = (Path(__file__).parents[2] / "web" / "static" / "releases.js").read_text()
    assert "window.confirm(form.dataset.confirm)" in script


def test_chart_labels_are_whole_names(runtime: Runtime) -> None:
    world = build_world(runtime, 20_000)
    page = signed_in(world, "publisher").get("/releases/dashboard").get_data(as_text=True)
    labels = re.findall(r'data-testid="chart-label">([^<]+)<', page)
    assert labels == ["2026年第12期"]
    assert 'transform="rotate(-40' in page


def test_profile_names_are_translated_and_configurable(runtime: Runtime, tmp_path: Path) -> None:
    from mam.i18n import translator
    from mam.profile_labels import profile_label, site_labels

    zh = translator("zh_CN")
    expected = {
        "broadcast": ("电视台播出版", "TV broadcast"),
        "playback": ("村级放映点版", "Village playback"),
        "web": ("网络学习版", "Online learning (HLS)"),
        "mobile": ("手机版", "Mobile phones"),
        "proxy": ("审片样片", "Review copy"),
        "poster": ("海报", "Poster"),
    }
    for name, (chinese, english) in expected.items():
        assert profile_label(name, "zh_CN", zh) == chinese
        assert profile_label(name, "en", str) == english
    site = tmp_path / "profiles.toml"
    site.write_text('[profiles.broadcast]\nlabel = { zh_CN = "县台高清版", en = "County TV HD" }\n')
    site_labels.cache_clear()
    assert profile_label("broadcast", "zh_CN", zh, site) == "县台高清版"
    assert profile_label("broadcast", "en", str, site) == "County TV HD"
    assert profile_label("proxy", "zh_CN", zh, site) == "审片样片"  # the catalogue's name


def test_name_is_a_persons_name_only_for_people(client: FlaskClient, login: object) -> None:
    admin: FlaskClient = login("admin")  # type: ignore[operator]
    counties = admin.get("/admin/counties").get_data(as_text=True)
    programmes = admin.get("/admin/programmes").get_data(as_text=True)
    users = admin.get("/admin/users").get_data(as_text=True)
    assert "县名称" in counties and "姓名" not in counties
    assert "栏目名称" in programmes and "姓名" not in programmes
    assert "<th>姓名</th>" in users  # a person's name
