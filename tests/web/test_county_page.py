"""The county page: episodes with posters, reported screenings, links a county may open."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.web.conftest import csrf_from
from tests.web.county_fixtures import PASSWORD, POSTER, CountyWorld


def signed_in(world: CountyWorld, username: str) -> FlaskClient:
    client = world.app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 302
    return client


def test_page_lists_episodes_with_posters_and_screenings(world: CountyWorld) -> None:
    client = signed_in(world, "county")
    html = client.get("/county/").get_data(as_text=True)
    episode = html.split('data-testid="county-episode"')[1].split("</li>")[0]
    assert "乡村振兴 第1集" in episode and "时代风采" in episode
    assert "0:02:05.4" in episode  # 125.4 s
    assert "讲述村里发展特色种植的故事。" in episode
    poster = re.search(r'src="([^"]+)"', episode).group(1)  # type: ignore[union-attr]
    with client.get(poster) as image:
        assert image.status_code == 200 and image.get_data() == POSTER
        assert image.mimetype == "image/jpeg"
    assert 'data-testid="no-screenings"' in html
    for place, viewers in (("城关镇", "120"), ("李家村放映点", "45")):
        r = client.post(
            f"/county/releases/{world.release}/screenings",
            data={
                "csrf_token": csrf_from(html),
                "screened_on": "2026-11-20",
                "place": place,
                "viewers": viewers,
            },
        )
        assert r.status_code == 302
    html = client.get("/county/").get_data(as_text=True)
    table = html.split('data-testid="county-screenings"')[1].split("</table>")[0]
    assert "城关镇" in table and "李家村放映点" in table and "2026-11-20" in table
    assert ">165<" in table  # total viewers
    # another county sees neither the set nor its posters
    other = signed_in(world, "county2")
    assert "乡村振兴" not in other.get("/county/").get_data(as_text=True)
    assert other.get(poster).status_code == 404


def test_brand_and_error_links_lead_where_a_county_may_go(world: CountyWorld) -> None:
    client = signed_in(world, "county")
    html = client.get("/county/").get_data(as_text=True)
    assert re.search(r'class="brand" href="/county/"', html)
    assert 'href="/account/tokens"' in html
    for url in (
        "/county/no-such-page",
        "/releases/",
        f"/county/packages/{world.package + 99}/download",
    ):
        page = client.get(url)
        assert page.status_code in (403, 404), url
        links = re.findall(r'href="(/[^"]*)"', page.get_data(as_text=True))
        assert "/county/" in links and "/" not in links, url
        for link in links:
            with client.get(link, follow_redirects=True) as linked:  # /assessment/ → own county
                assert linked.status_code == 200, (url, link)


def test_county_errors_read_in_chinese(world: CountyWorld) -> None:
    client = signed_in(world, "county")
    html = client.get("/county/").get_data(as_text=True)
    r = client.post(
        f"/county/releases/{world.release}/screenings",
        data={
            "csrf_token": csrf_from(html),
            "screened_on": "2026-11-20",
            "place": " ",
            "viewers": "10",
        },
    )
    assert r.status_code == 400 and "请填写乡镇或放映地点" in r.get_data(as_text=True)
    with world.runtime.db.session() as s:
        from mam.services.releases import ReleaseService
        from mam.services.users import UserService

        svc = ReleaseService(s)
        svc.withdraw(
            svc.get(world.release), "片中数据有误", UserService(s).by_username("publisher")
        )
    refused = client.get(world.url)
    assert refused.status_code == 403
    assert "供片批次 2026年第12期 已撤回：片中数据有误" in refused.get_data(as_text=True)
