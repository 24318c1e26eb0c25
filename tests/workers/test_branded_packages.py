"""A county's own logo on its TV package, and the checks a logo upload passes.

The package is built like the task builds it (``workers.branded.branded_files`` as the
builder's ``brand`` hook) from a real processed version; its broadcast MP4 is decoded and
sampled where the shipped profile puts the logo (top-right, 10 % of the height, 4 % in,
80 % opaque)."""

from __future__ import annotations

import functools
import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from mam.audit import AuditAction
from mam.errors import InvalidInput, NotAllowed
from mam.models import AuditEvent, Role, Version, VersionState
from mam.models.release import PackageKind, PackageState, ReleaseSet
from mam.runtime import Runtime
from mam.services.branding import BrandingService, check_logo, package_logo
from mam.services.coverage import CoverageReports
from mam.services.packaging import PackageBuilder
from mam.services.releases import ReleaseService
from mam.services.tokens import TokenService
from mam.services.users import UserService
from tests import factories
from tests.web.conftest import process_now
from web import create_app
from workers.branded import branded_files
from workers.profiles import load_profiles

W, H = 320, 180


def png(mode: str, size: tuple[int, int] = (64, 32), colour: object = (255, 0, 0, 255)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, format="PNG")  # type: ignore[arg-type]
    return out.getvalue()


def frame(path: Path, seconds: float) -> bytes:
    argv = ["ffmpeg", "-v", "error", "-ss", f"{seconds}", "-i", str(path), "-frames:v", "1",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]  # fmt: skip
    return subprocess.run(argv, check=True, capture_output=True, timeout=60).stdout


def pixel(data: bytes, x: int, y: int) -> tuple[int, ...]:
    return tuple(data[(y * W + x) * 3 :][:3])


def near(got: tuple[int, ...], want: tuple[int, ...], tol: int) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(got, want, strict=True))


@pytest.mark.parametrize(
    ("data", "name", "refusal"),
    [
        (b"\x89PNG\r\n\x1a\nnot really", "logo.png", "branding.logo_not_png"),
        (png("RGB", colour=(255, 0, 0)), "flat.png", "branding.logo_no_alpha"),
        (png("RGBA", (8, 8)), "tiny.png", "branding.logo_dimensions"),
        (png("RGBA", (3000, 20)), "wide.png", "branding.logo_dimensions"),
        (b"GIF89a" + b"\0" * 40, "logo.png", "branding.logo_not_png"),
        (b"\0" * 1_000_001, "big.png", "branding.logo_too_large"),
    ],
)
def test_only_a_png_with_alpha_is_a_logo(data: bytes, name: str, refusal: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_logo(data, name)
    assert caught.value.code == refusal


def test_hostile_file_names_are_cut_to_their_last_part() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_logo(b"nope", "..\\..\\etc/passwd<script>.png")
    assert caught.value.params["file"] == "passwd<script>.png"


def test_a_good_logo_passes() -> None:
    assert check_logo(png("RGBA"), "台标.png") == (64, 32)
    assert check_logo(png("LA", colour=(200, 128)), "grey.png") == (64, 32)


def token(runtime: Runtime, username: str) -> dict[str, str]:
    with runtime.db.session() as s:
        user = UserService(s).by_username(username)
        assert user is not None
        secret, _row = TokenService(s).issue(user, "script", scopes=("county:download",))
    return {"Authorization": f"Bearer {secret}"}


def tv_mp4(runtime: Runtime, key: str, tmp_path: Path, name: str) -> tuple[Path, dict]:
    """Return the package's broadcast MP4 (extracted) and its manifest.json."""
    archive = tmp_path / f"{name}.zip"
    runtime.storage.download_to(key, archive)
    with zipfile.ZipFile(archive) as zf:
        (mp4,) = [n for n in zf.namelist() if n.endswith(".mp4")]
        (manifest,) = [n for n in zf.namelist() if n.endswith("data/manifest.json")]
        (tmp_path / f"{name}.mp4").write_bytes(zf.read(mp4))
        return tmp_path / f"{name}.mp4", json.loads(zf.read(manifest))


@pytest.mark.slow
def test_each_county_gets_the_tv_package_with_its_own_logo(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Two counties, 甲 with its own logo, 乙 without: 甲 gets a TV package of its own with
    its logo, 乙 the shared one without; neither can fetch the other's."""
    film = tmp_path / "flat.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=0x404040:s={W}x{H}:r=25:d=2",
         "-f", "lavfi", "-i", "sine=duration=2", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(film)],
        check=True,
    )  # fmt: skip
    vid = process_now(runtime, film, title="乡村振兴 第9集")
    with runtime.db.session() as s:
        version = s.get_one(Version, vid)
        version.state = VersionState.APPROVED  # the review chain is tested on its own
        publisher, admin = factories.user(s, Role.PUBLISHER), factories.user(s, Role.ADMIN)
        users = UserService(s)
        county, other = users.ensure_county("a", "甲县"), users.ensure_county("b", "乙县")
        users.create("county_a", "correct horse battery", [Role.COUNTY], county_code="a")
        users.create("county_b", "correct horse battery", [Role.COUNTY], county_code="b")
        BrandingService(s, runtime.storage).set_county_logo(county, png("RGBA"), "甲.png", admin)
        s.commit()
        svc = ReleaseService(s)
        release = svc.create("2026年第14期", publisher)
        svc.add_version(release, vid, publisher)
        svc.set_targets(release, [county.id, other.id], publisher)
        assert package_logo(release, county) == county.logo_key
        assert package_logo(release, other) is None and package_logo(release) is None
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.LOGO_SET))
        assert [e.object_id for e in events] == [county.id]
        published = svc.publish(release, publisher)
        tv = {p.county_id: p for p in published if p.kind == PackageKind.TV}
        assert set(tv) == {None, county.id}  # 乙 shares; 甲 has its own
        assert {p.kind for p in published if p.county_id is None} == set(PackageKind)
        with pytest.raises(NotAllowed):  # published: the set's own logo is frozen
            BrandingService(s, runtime.storage).clear_release_logo(release, admin)
        s.commit()
        brand = functools.partial(
            branded_files, s, runtime.storage, runtime.settings, load_profiles()
        )
        builder = PackageBuilder(s, runtime.storage, tmp_path / "work", brand=brand)
        for package in tv.values():
            builder.build(package.id)
            assert package.state == PackageState.READY, package.last_error
        own_key, shared_key = tv[county.id].storage_key or "", tv[None].storage_key or ""
        assert own_key != shared_key
        ids = {"release": release.id, "own": tv[county.id].id, "shared": tv[None].id}
        ids |= {p.kind.value: p.id for p in published if p.kind != PackageKind.TV}

    own, own_manifest = tv_mp4(runtime, own_key, tmp_path, "own")
    shared, shared_manifest = tv_mp4(runtime, shared_key, tmp_path, "shared")
    assert own_manifest["county"] == {"code": "a", "name": "甲县"}
    assert shared_manifest["county"] is None
    # 18 px tall (10 % of 180), 36 wide, 7 px from the top and right: x 277..312, y 7..24.
    red = (int(0.8 * 255 + 0.2 * 64), int(0.2 * 64), int(0.2 * 64))
    packaged, plain = frame(own, 1.0), frame(shared, 1.0)
    for x, y in [(280, 10), (295, 16), (309, 22)]:
        assert near(pixel(packaged, x, y), red, 20), (x, y, pixel(packaged, x, y))
        assert near(pixel(plain, x, y), (64, 64, 64), 8)  # 乙's package: no logo
    for x, y in [(270, 16), (295, 30), (20, 16), (160, 90)]:
        assert near(pixel(packaged, x, y), (64, 64, 64), 8), (x, y, pixel(packaged, x, y))

    client = create_app({"TESTING": True}, runtime=runtime).test_client()
    a, b = token(runtime, "county_a"), token(runtime, "county_b")

    def status(url: str, auth: dict[str, str]) -> int:
        response = client.get(url, headers=auth)
        response.get_data()
        response.close()  # ends the streamed body: the transfer is logged now
        return response.status_code

    download = "/county/packages/{}/download".format
    assert status(download(ids["own"]), a) == 200
    assert status(download(ids["shared"]), b) == 200
    assert status(download(ids["own"]), b) == 404  # 甲's package is not 乙's
    assert status(download(ids["shared"]), a) == 404  # 甲 takes its own, not the shared one
    assert status(download(ids["playback"]), a) == 409  # shared, meant for 甲, not built
    assert status(f"/api/v1/packages/{ids['own']}", b) == 404
    assert status(f"/api/v1/packages/{ids['own']}", a) == 200
    listed = {
        name: {p["id"] for p in client.get(f"/api/v1/releases/{ids['release']}/packages",
                                           headers=auth).get_json()["packages"]}
        for name, auth in (("a", a), ("b", b))
    }  # fmt: skip
    assert listed["a"] == {ids["own"], ids["playback"], ids["web"]}
    assert listed["b"] == {ids["shared"], ids["playback"], ids["web"]}
    feed = client.get("/county/releases.json", headers=b).get_json()
    assert {p["id"] for p in feed["releases"][0]["packages"]} == listed["b"]
    tv_a = client.get("/county/releases.json", headers=a).get_json()["releases"][0]["packages"]
    assert [p["county"] for p in tv_a if p["kind"] == "tv"] == ["a"]
    receipt = client.post(f"/api/v1/releases/{ids['release']}/receipt", headers=a)
    assert receipt.status_code == 201
    with runtime.db.session() as s:
        coverage = CoverageReports(s).coverage(s.get_one(ReleaseSet, ids["release"]))
        rows = {c.county.code: c for c in coverage}
        assert rows["a"].downloaded and rows["a"].confirmed_at is not None
        assert rows["b"].downloaded and rows["b"].confirmed_at is None
