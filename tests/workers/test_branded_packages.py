"""A county's own logo on its TV package, and the checks a logo upload passes.

The package is built like the task builds it (``workers.branded.branded_files`` as the
builder's ``brand`` hook) from a real processed version; its broadcast MP4 is decoded and
sampled where the shipped profile puts the logo (top-right, 10 % of the height, 4 % in,
80 % opaque)."""

from __future__ import annotations

import functools
import io
import subprocess
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from mam.audit import AuditAction
from mam.errors import InvalidInput, NotAllowed
from mam.models import AuditEvent, County, Role, Version, VersionState
from mam.models.release import PackageKind, PackageState
from mam.runtime import Runtime
from mam.services.branding import BrandingService, check_logo, package_logo
from mam.services.packaging import PackageBuilder
from mam.services.releases import ReleaseService
from tests import factories
from tests.web.conftest import process_now
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


@pytest.mark.slow
def test_a_county_tv_package_carries_its_logo(runtime: Runtime, tmp_path: Path) -> None:
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
        county, other = County(code="a", name="甲县"), County(code="b", name="乙县")
        s.add_all([county, other])
        s.flush()
        BrandingService(s, runtime.storage).set_county_logo(county, png("RGBA"), "甲.png", admin)
        s.commit()
        svc = ReleaseService(s)
        release = svc.create("2026年第14期", publisher)
        svc.add_version(release, vid, publisher)
        svc.set_targets(release, [county.id, other.id], publisher)
        assert package_logo(release) is None  # two counties: no county's logo
        svc.set_targets(release, [county.id], publisher)
        assert package_logo(release) == county.logo_key
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.LOGO_SET))
        assert [e.object_id for e in events] == [county.id]
        packages = {p.kind: p for p in svc.publish(release, publisher)}
        with pytest.raises(NotAllowed):  # published: the set's own logo is frozen
            BrandingService(s, runtime.storage).clear_release_logo(release, admin)
        s.commit()
        brand = functools.partial(
            branded_files, s, runtime.storage, runtime.settings, load_profiles()
        )
        builder = PackageBuilder(s, runtime.storage, tmp_path / "work", brand=brand)
        package = builder.build(packages[PackageKind.TV].id)
        assert package.state == PackageState.READY, package.last_error
        archive = tmp_path / "tv.zip"
        runtime.storage.download_to(package.storage_key or "", archive)
        with zipfile.ZipFile(archive) as zf:
            (name,) = [n for n in zf.namelist() if n.endswith(".mp4")]
            (tmp_path / "tv.mp4").write_bytes(zf.read(name))
        ingest_copy = tmp_path / "ingest.mp4"
        runtime.storage.download_to(version.rendition("broadcast").storage_key, ingest_copy)  # type: ignore[union-attr]

    # 18 px tall (10 % of 180), 36 wide, 7 px from the top and right: x 277..312, y 7..24.
    red = (int(0.8 * 255 + 0.2 * 64), int(0.2 * 64), int(0.2 * 64))
    packaged, plain = frame(tmp_path / "tv.mp4", 1.0), frame(ingest_copy, 1.0)
    for x, y in [(280, 10), (295, 16), (309, 22)]:
        assert near(pixel(packaged, x, y), red, 20), (x, y, pixel(packaged, x, y))
        assert near(pixel(plain, x, y), (64, 64, 64), 8)  # the ingest copy has no logo
    for x, y in [(270, 16), (295, 30), (20, 16), (160, 90)]:
        assert near(pixel(packaged, x, y), (64, 64, 64), 8), (x, y, pixel(packaged, x, y))
