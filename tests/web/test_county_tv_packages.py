"""Per-county TV packages on local storage and S3 (moto): 甲 has its own logo and its own TV
package, 乙 shares the set's; each county sees and downloads only the package meant for it,
on the county page, the JSON list and the download route; the publisher sees both."""

from __future__ import annotations

import hashlib
import io

import pytest
from flask.testing import FlaskClient
from PIL import Image

from mam.models import Role, VersionState, utcnow
from mam.models.release import PackageKind, PackageState
from mam.runtime import Runtime
from mam.services.branding import BrandingService
from mam.services.packaging import package_key
from mam.services.releases import ReleaseService
from mam.services.users import UserService
from tests import factories
from tests.web.conftest import PASSWORD, csrf_from
from web import create_app


def logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (64, 32), (255, 0, 0, 255)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def world(backend_runtime: Runtime) -> dict[str, object]:
    rt = backend_runtime
    with rt.db.session() as s:
        users = UserService(s)
        a, b = users.ensure_county("a", "甲县"), users.ensure_county("b", "乙县")
        users.create("county_a", PASSWORD, [Role.COUNTY], county_code="a")
        users.create("county_b", PASSWORD, [Role.COUNTY], county_code="b")
        publisher = users.create("publisher", PASSWORD, [Role.PUBLISHER])
        admin = users.create("admin", PASSWORD, [Role.ADMIN])
        BrandingService(s, rt.storage).set_county_logo(a, logo(), "甲.png", admin)
        version = factories.version(s, VersionState.APPROVED, title="乡村振兴 第1集")
        svc = ReleaseService(s)
        release = svc.create("2026年第12期", publisher)
        svc.add_version(release, version.id, publisher)
        svc.set_targets(release, [a.id, b.id], publisher)
        tv = {p.county_id: p for p in svc.publish(release, publisher) if p.kind == PackageKind.TV}
        assert set(tv) == {None, a.id}
        data = {}
        for county_id, package in tv.items():
            body = f"package of {county_id}".encode() * 5000
            key = package_key(release.id, PackageKind.TV, county_id)
            rt.storage.put_bytes(key, body, content_type="application/zip")
            package.storage_key, package.size = key, len(body)
            package.sha256 = hashlib.sha256(body).hexdigest()
            package.state, package.built_at, package.progress = PackageState.READY, utcnow(), 100
            data[package.id] = body
        s.commit()
        return {"runtime": rt, "release": release.id, "own": tv[a.id].id,
                "shared": tv[None].id, "bytes": data, "own_key": tv[a.id].storage_key,
                "shared_key": tv[None].storage_key}  # fmt: skip


def signed_in(world: dict[str, object], username: str) -> FlaskClient:
    runtime = world["runtime"]
    assert isinstance(runtime, Runtime)
    client = create_app({"TESTING": True}, runtime=runtime).test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def fetch(client: FlaskClient, package_id: object) -> tuple[int, bytes]:
    response = client.get(f"/county/packages/{package_id}/download")
    body = response.get_data()
    response.close()
    return response.status_code, body


def test_each_county_downloads_only_its_own_tv_package(world: dict[str, object]) -> None:
    own, shared, data = world["own"], world["shared"], world["bytes"]
    assert world["own_key"] != world["shared_key"]
    assert str(world["shared_key"]).endswith("/tv.zip")  # the shared key as before 0025
    a, b = signed_in(world, "county_a"), signed_in(world, "county_b")
    assert fetch(a, own) == (200, data[own])  # type: ignore[index]
    assert fetch(b, shared) == (200, data[shared])  # type: ignore[index]
    assert fetch(b, own)[0] == 404
    assert fetch(a, shared)[0] == 404
    page_a = a.get("/county/").get_data(as_text=True)
    page_b = b.get("/county/").get_data(as_text=True)
    assert f"/county/packages/{own}/download" in page_a
    assert f"/county/packages/{shared}/download" not in page_a
    assert f"/county/packages/{own}/download" not in page_b
    assert f"/county/packages/{shared}/download" in page_b
    assert "甲县专用" in page_a  # the package is labelled as the county's own
    kinds = [(p["kind"], p["county"]) for p in
             a.get("/county/releases.json").get_json()["releases"][0]["packages"]]  # fmt: skip
    assert ("tv", "a") in kinds and ("tv", None) not in kinds


def test_the_publisher_sees_every_tv_package(world: dict[str, object]) -> None:
    publisher = signed_in(world, "publisher")
    progress = publisher.get(f"/releases/{world['release']}/progress").get_json()
    tv = sorted((p["county"] or "") for p in progress["packages"] if p["kind"] == "tv")
    assert tv == ["", "a"]
    page = publisher.get(f"/releases/{world['release']}").get_data(as_text=True)
    assert "甲县专用" in page
