"""/api/v1/releases: sets, episodes, packages and receipts for publishers and counties."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from mam.runtime import Runtime
from tests.web.county_fixtures import POSTER, CountyWorld, build_world


@pytest.fixture
def small(runtime: Runtime) -> CountyWorld:
    return build_world(runtime, 20_000)


def test_county_sees_its_sets_episodes_and_packages(small: CountyWorld) -> None:
    client = small.app.test_client()
    auth = small.token(scopes=("county:download",))
    listing = client.get("/api/v1/releases", headers=auth)
    assert listing.status_code == 200
    [summary] = listing.json["releases"]
    assert summary["name"] == "2026年第12期" and summary["receipt_confirmed"] is False
    detail = client.get(f"/api/v1/releases/{small.release}", headers=auth).json
    [episode] = detail["episodes"]
    assert episode["title"] == "乡村振兴 第1集" and episode["duration"] == pytest.approx(125.4)
    assert episode["synopsis"].startswith("讲述村里")
    assert "counties" not in detail  # a county is not told who else gets the set
    poster = client.get(episode["poster_url"], headers=auth)
    assert poster.status_code == 200 and poster.get_data() == POSTER
    packages = client.get(f"/api/v1/releases/{small.release}/packages", headers=auth).json
    tv = next(p for p in packages["packages"] if p["kind"] == "tv")
    assert (tv["state"], tv["size"], tv["sha256"]) == ("ready", len(small.data), small.sha256)
    one = client.get(f"/api/v1/packages/{small.package}", headers=auth).json
    assert one["url"] == tv["url"] and one["release_id"] == small.release
    with client.get(tv["url"], headers=auth) as body:
        assert body.get_data() == small.data
    first = client.post(f"/api/v1/releases/{small.release}/receipt", headers=auth)
    again = client.post(f"/api/v1/releases/{small.release}/receipt", headers=auth)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["confirmed_at"] == again.json["confirmed_at"]
    assert client.get("/api/v1/releases", headers=auth).json["releases"][0]["receipt_confirmed"]


def test_other_counties_and_roles(small: CountyWorld) -> None:
    client = small.app.test_client()
    other = small.token("county2", scopes=("api",))
    assert client.get("/api/v1/releases", headers=other).json["releases"] == []
    for url in (
        f"/api/v1/releases/{small.release}",
        f"/api/v1/releases/{small.release}/packages",
        f"/api/v1/packages/{small.package}",
    ):
        assert client.get(url, headers=other).status_code == 404, url
    assert (
        client.post(f"/api/v1/releases/{small.release}/receipt", headers=other).status_code == 404
    )
    producer = small.token("producer", scopes=("api",))
    assert client.get("/api/v1/releases", headers=producer).status_code == 403
    publisher = small.token("publisher", scopes=("api",))
    detail = client.get(f"/api/v1/releases/{small.release}", headers=publisher).json
    assert [c["code"] for c in detail["counties"]] == ["c1"]
    r = client.post(f"/api/v1/releases/{small.release}/receipt", headers=publisher)
    assert r.status_code == 403
    r = client.get(
        "/api/v1/releases?state=nonsense", headers={**publisher, "Accept-Language": "en"}
    )
    assert r.status_code == 400 and "state must be one of" in r.json["error"]


def test_openapi_documents_the_release_endpoints(small: CountyWorld) -> None:
    spec = small.app.test_client().get("/api/v1/openapi.json", headers=small.token()).json
    validate(spec)
    assert {
        "/api/v1/releases",
        "/api/v1/releases/{release_id}",
        "/api/v1/releases/{release_id}/packages",
        "/api/v1/packages/{package_id}",
        "/api/v1/releases/{release_id}/receipt",
    } <= set(spec["paths"])
