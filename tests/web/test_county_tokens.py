"""County automation with personal tokens: scopes, expiry, revocation, never a login redirect."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from mam.models import utcnow
from mam.models.catalogue import ApiToken
from mam.runtime import Runtime
from tests.web.conftest import csrf_from
from tests.web.county_fixtures import PASSWORD, CountyWorld, build_world


@pytest.fixture
def small(runtime: Runtime) -> CountyWorld:
    return build_world(runtime, 50_000)


def signed_in(world: CountyWorld, username: str) -> FlaskClient:
    client = world.app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 302
    return client


def test_county_download_token_fetches_feeds_packages_and_confirms(small: CountyWorld) -> None:
    client = small.app.test_client()
    auth = small.token(scopes=("county:download",))
    listing = client.get("/county/releases.json", headers=auth)
    assert listing.status_code == 200
    package = next(p for p in listing.json["releases"][0]["packages"] if p["kind"] == "tv")
    assert package["sha256"] == small.sha256 and package["url"].endswith(small.url)
    feed = client.get("/county/feed.atom", headers=auth)
    assert feed.status_code == 200 and small.url in feed.get_data(as_text=True)
    with client.get(small.url, headers={**auth, "Range": "bytes=10-"}) as part:
        assert part.status_code == 206 and part.get_data() == small.data[10:]
    with client.get(small.url, headers={**auth, "Range": "bytes=0-9"}) as rest:
        assert rest.status_code == 206 and rest.get_data() == small.data[:10]
    assert small.downloaded()
    receipt = client.post(f"/county/releases/{small.release}/receipt", headers=auth)
    assert receipt.status_code == 200 and receipt.json["confirmed_at"]
    api = client.get("/api/v1/releases", headers=auth)
    assert api.status_code == 200 and api.json["releases"][0]["receipt_confirmed"] is True


def test_county_download_token_is_refused_elsewhere_without_redirects(small: CountyWorld) -> None:
    client = small.app.test_client()
    auth = {**small.token(scopes=("county:download",)), "Accept-Language": "en"}
    for url in ("/api/v1/episodes", "/county/", "/", "/search", "/account/tokens", "/account"):
        r = client.get(url, headers=auth)
        assert r.status_code == 403, url
        assert "may not be used here" in r.json["error"] or "not accepted" in r.json["error"]
    # a producer's full token reaches county routes but its role does not
    producer = {**small.token("producer", scopes=("api",)), "Accept-Language": "en"}
    r = client.get("/county/releases.json", headers=producer)
    assert r.status_code == 403 and r.is_json
    # the county's full "api" token works on the county routes too
    full = small.token(scopes=("api",))
    assert client.get("/county/feed.atom", headers=full).status_code == 200
    other = small.token("county2")
    assert client.get(small.url, headers=other).status_code == 404


def test_wrong_revoked_and_expired_tokens_get_401_json(small: CountyWorld) -> None:
    client = small.app.test_client()
    en = {"Accept-Language": "en"}
    r = client.get(small.url, headers={**en, "Authorization": "Bearer mam_nope"})
    assert r.status_code == 401 and "wrong or was revoked" in r.json["error"]
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    auth = small.token(days=30)
    assert client.get("/county/releases.json", headers=auth).status_code == 200
    with small.runtime.db.session() as s:
        s.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(minutes=1)))
        s.commit()
    r = client.get("/county/releases.json", headers={**auth, **en})
    assert r.status_code == 401 and "expired" in r.json["error"]
    assert "Location" not in r.headers
    # no session and no token: a browser goes to the login page, a script is told 401
    assert client.get("/county/releases.json").status_code == 302
    assert client.get("/api/v1/releases").status_code == 401


def test_tokens_page_picks_scopes_and_expiry_lists_and_revokes(small: CountyWorld) -> None:
    client = signed_in(small, "county")
    account = client.get("/account").get_data(as_text=True)
    assert 'href="/account/tokens"' in account
    page = client.get("/account/tokens").get_data(as_text=True)
    # the county's sensible default: the narrow scope is ticked, the full one is not
    assert re.search(r'<input checked[^>]*value="county:download"', page)
    assert not re.search(r'<input checked[^>]*value="api"', page)
    r = client.post(
        "/account/tokens",
        data={
            "csrf_token": csrf_from(page),
            "name": "每晚下载",
            "scopes": "county:download",
            "expires": "30",
        },
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    secret = re.search(r"<code[^>]*>(mam_[^<]+)</code>", html).group(1)  # type: ignore[union-attr]
    row = html.split('data-testid="token-row"')[1].split("</tr>")[0]
    assert "每晚下载" in row and "县级下载" in row and "从未使用" in row
    expires = (utcnow() + timedelta(days=30)).year
    assert str(expires) in row
    bearer = {"Authorization": f"Bearer {secret}"}
    assert small.app.test_client().get("/county/releases.json", headers=bearer).status_code == 200
    none = client.post(
        "/account/tokens", data={"csrf_token": csrf_from(html), "name": "空", "expires": ""}
    )
    assert none.status_code == 400 and "至少选择一项" in none.get_data(as_text=True)
    token_id = re.search(r'data-token="(\d+)"', html).group(1)  # type: ignore[union-attr]
    client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_from(html)})
    assert "每晚下载" not in client.get("/account/tokens").get_data(as_text=True)
    r = small.app.test_client().get("/county/releases.json", headers=bearer)
    assert r.status_code == 401
