"""Real renditions from the pipeline go into all three release packages, which validate."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mam.models import County, Role, Version, VersionState
from mam.models.release import PackageKind, PackageState
from mam.runtime import Runtime
from mam.services.packaging import PackageBuilder
from mam.services.releases import ReleaseService
from tests import factories
from tests.web.conftest import process_now

pytestmark = pytest.mark.slow


def test_all_packages_from_real_renditions(
    runtime: Runtime, fresh_clip: Path, tmp_path: Path
) -> None:
    vid = process_now(runtime, fresh_clip, title="乡村振兴 第9集")
    with runtime.db.session() as s:
        version = s.get_one(Version, vid)
        assert {"broadcast", "playback", "mobile", "web"} <= {r.profile for r in version.renditions}
        version.state = VersionState.APPROVED  # the review chain is tested on its own
        publisher = factories.user(s, Role.PUBLISHER)
        s.add(County(code="a", name="甲县", villages=7))
        s.commit()
        svc = ReleaseService(s)
        release = svc.create("2026年第13期", publisher)
        svc.add_version(release, vid, publisher)
        svc.set_targets(release, None, publisher)
        packages = svc.publish(release, publisher)
        builder = PackageBuilder(s, runtime.storage, tmp_path / "work")
        for package in packages:
            builder.build(package.id)
            assert package.state == PackageState.READY, package.last_error
            archive = tmp_path / f"{package.kind.value}.zip"
            runtime.storage.download_to(package.storage_key or "", archive)
            out = tmp_path / package.kind.value
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(out)
            (bag,) = out.iterdir()
            check = subprocess.run(
                [sys.executable, "-m", "bagit", "--validate", str(bag)],
                check=False,
                capture_output=True,
                text=True,
            )
            assert check.returncode == 0, check.stderr
            names = {p.relative_to(bag / "data").as_posix() for p in (bag / "data").rglob("*")}
            folder = "01-乡村振兴 第9集"
            assert f"{folder}/pbcore.xml" in names and f"{folder}/images/poster.jpg" in names
            if package.kind == PackageKind.WEB:
                assert f"{folder}/web/master.m3u8" in names
                assert any(n.endswith(".ts") for n in names)
            elif package.kind == PackageKind.TV:
                assert f"{folder}/broadcast/broadcast.mp4" in names
            else:
                assert {f"{folder}/playback/playback.mp4", f"{folder}/mobile/mobile.mp4"} <= names
