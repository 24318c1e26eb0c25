from __future__ import annotations

import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import Conflict, InvalidInput, NotAllowed, NotFound
from mam.models import AuditEvent, County, Rendition, Role, Version, VersionState, utcnow
from mam.models.release import PackageKind, PackageState, ReleaseState
from mam.pbcore import NS
from mam.probe import probe
from mam.runtime import Runtime
from mam.services.county_distribution import CountyDistribution
from mam.services.coverage import CoverageReports
from mam.services.packaging import PackageBuilder, package_key
from mam.services.releases import ReleaseService
from tests import factories


def approved_version(session: Session, runtime: Runtime, clip: Path, title: str) -> Version:
    """An approved version with broadcast/playback/mobile MP4s, an HLS folder and a poster."""
    v = factories.version(session, VersionState.APPROVED, title=title)
    info = probe(clip).to_dict()
    for profile in ("broadcast", "playback", "mobile"):
        key = f"renditions/{v.id}/{profile}/{profile}.mp4"
        size = runtime.storage.put_file(key, clip)
        v.renditions.append(
            Rendition(
                profile=profile,
                storage_key=key,
                mime_type="video/mp4",
                size=size,
                width=320,
                height=240,
                media_info=info,
            )
        )
    web = f"renditions/{v.id}/web"
    runtime.storage.put_bytes(
        f"{web}/master.m3u8", b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n360p/index.m3u8\n"
    )
    runtime.storage.put_bytes(f"{web}/360p/index.m3u8", b"#EXTM3U\n#EXTINF:6,\nseg0.ts\n")
    runtime.storage.put_bytes(f"{web}/360p/seg0.ts", b"\x47" * 188)
    v.renditions.append(
        Rendition(
            profile="web",
            storage_key=f"{web}/master.m3u8",
            mime_type="application/vnd.apple.mpegurl",
            size=60,
        )
    )
    runtime.storage.put_bytes(f"thumbs/{v.id}/poster.jpg", b"\xff\xd8\xff\xe0 jpeg")
    session.commit()
    return v


@pytest.fixture
def world(session: Session, runtime: Runtime, clip: Path):  # type: ignore[no-untyped-def]
    publisher = factories.user(session, Role.PUBLISHER)
    a = County(code="a", name="甲县", villages=10)
    b = County(code="b", name="乙县", villages=3)
    session.add_all([a, b])
    session.flush()
    county_a = factories.user(session, Role.COUNTY)
    county_a.county_id = a.id
    county_b = factories.user(session, Role.COUNTY)
    county_b.county_id = b.id
    v1 = approved_version(session, runtime, clip, "乡村振兴 第1集")
    v2 = approved_version(session, runtime, clip, "党建: 第2集?")
    session.commit()
    return {
        "publisher": publisher,
        "a": a,
        "b": b,
        "county_a": county_a,
        "county_b": county_b,
        "versions": [v1, v2],
    }


def published(session: Session, world: dict, targets: list[int] | None = None):  # type: ignore[no-untyped-def]
    svc = ReleaseService(session)
    release = svc.create(
        f"2026年第{uuid.uuid4().hex[:4]}期",
        world["publisher"],
        notes="十二月供片",
        publish_date=date(2026, 12, 1),
    )
    for v in world["versions"]:
        svc.add_version(release, v.id, world["publisher"])
    svc.set_targets(
        release, targets if targets is not None else [world["a"].id], world["publisher"]
    )
    svc.publish(release, world["publisher"])
    session.commit()  # the test is the entry point: it ends the unit of work
    return release


def test_only_approved_versions_enter_a_set(session: Session, world: dict) -> None:
    svc = ReleaseService(session)
    release = svc.create("2026年第12期", world["publisher"])
    ready = factories.version(session, VersionState.READY)
    with pytest.raises(NotAllowed, match="Only approved versions"):
        svc.add_version(release, ready.id, world["publisher"])
    with pytest.raises(NotAllowed, match="Only publishers"):
        svc.create("x", world["county_a"])
    with pytest.raises(Conflict, match="already exists"):
        svc.create("2026年第12期", world["publisher"])


def test_publish_releases_versions_and_freezes_the_set(session: Session, world: dict) -> None:
    release = published(session, world)
    assert release.state == ReleaseState.PUBLISHED and release.published_at
    assert {v.state for v in world["versions"]} == {VersionState.RELEASED}
    assert {p.kind for p in release.packages} == set(PackageKind)
    assert all(p.state == PackageState.QUEUED for p in release.packages)
    other = factories.version(session, VersionState.APPROVED)
    with pytest.raises(NotAllowed, match="cannot be changed"):
        ReleaseService(session).add_version(release, other.id, world["publisher"])
    actions = set(
        session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.object_type == "release_set", AuditEvent.object_id == release.id
            )
        )
    )
    assert {"release_created", "release_published", "release_targets_set"} <= actions


def test_a_voided_approval_blocks_publishing(session: Session, world: dict) -> None:
    svc = ReleaseService(session)
    release = svc.create("2027年第1期", world["publisher"])
    v1 = world["versions"][0]
    svc.add_version(release, v1.id, world["publisher"])
    svc.set_targets(release, None, world["publisher"])
    v1.state = VersionState.SUPERSEDED  # what the review workflow does on a new version
    session.commit()
    with pytest.raises(Conflict, match="no longer approved"):
        svc.publish(release, world["publisher"])
    assert release.state == ReleaseState.DRAFT


def test_package_is_a_valid_bag_with_pbcore(
    session: Session, runtime: Runtime, world: dict, tmp_path: Path
) -> None:
    release = published(session, world)
    tv = next(p for p in release.packages if p.kind == PackageKind.TV)
    seen: list[float] = []
    PackageBuilder(session, runtime.storage, tmp_path / "work").build(tv.id, seen.append)
    assert tv.state == PackageState.READY and tv.storage_key == package_key(
        release.id, PackageKind.TV
    )
    assert seen and seen == sorted(seen)
    archive = tmp_path / "tv.zip"
    runtime.storage.download_to(tv.storage_key, archive)
    assert archive.stat().st_size == tv.size
    with zipfile.ZipFile(archive) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}
        zf.extractall(tmp_path / "out")
    (bag,) = (tmp_path / "out").iterdir()
    check = subprocess.run(
        [sys.executable, "-m", "bagit", "--validate", str(bag)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    info = (bag / "bag-info.txt").read_text()
    for field in (
        "Source-Organization",
        f"External-Identifier: release-{release.id}",
        "Bagging-Date",
        "Payload-Oxum",
    ):
        assert field in info
    assert "manifest-sha256.txt" in {p.name for p in bag.iterdir()}
    readme = (bag / "README.txt").read_text(encoding="utf-8")
    assert "如何校验" in readme
    # What the files are, read from them (the clip is 320×240), not what the profile aims at.
    assert "影片格式（按实际文件）：电视台播出版 320×240 H.264" in readme
    assert "1080p" not in readme
    folders = sorted(p.name for p in (bag / "data").iterdir() if p.is_dir())
    assert folders == ["01-乡村振兴 第1集", "02-党建_ 第2集_"]  # safe on FAT/Windows
    episode = bag / "data" / folders[0]
    assert (episode / "broadcast" / "broadcast.mp4").exists()
    assert (episode / "images" / "poster.jpg").exists()
    doc = ET.parse(episode / "pbcore.xml").getroot()
    q = {"p": NS}
    assert doc.tag == f"{{{NS}}}pbcoreDescriptionDocument"
    titles = {t.get("titleType"): t.text for t in doc.findall("p:pbcoreTitle", q)}
    assert titles == {"Series": "时代风采", "Episode": "乡村振兴 第1集"}
    assert doc.find("p:pbcoreIdentifier", q) is not None
    assert doc.find("p:pbcoreRightsSummary/p:rightsSummary", q) is not None
    inst = doc.findall("p:pbcoreInstantiation", q)
    video = next(
        i for i in inst if i.findtext("p:instantiationDigital", namespaces=q) == "video/mp4"
    )
    assert video.findtext("p:instantiationLocation", namespaces=q).startswith("data/01-")
    assert video.findtext("p:instantiationDuration", namespaces=q).startswith("00:00:02")
    assert int(video.findtext("p:instantiationFileSize", namespaces=q)) > 0
    assert video.findtext("p:instantiationTracks", namespaces=q) == "2"


def test_web_package_carries_whole_hls_folders(
    session: Session, runtime: Runtime, world: dict, tmp_path: Path
) -> None:
    release = published(session, world)
    web = next(p for p in release.packages if p.kind == PackageKind.WEB)
    PackageBuilder(session, runtime.storage, tmp_path / "w").build(web.id)
    runtime.storage.download_to(web.storage_key, tmp_path / "web.zip")
    with zipfile.ZipFile(tmp_path / "web.zip") as zf:
        names = zf.namelist()
    assert any(n.endswith("01-乡村振兴 第1集/web/360p/seg0.ts") for n in names)
    assert any(n.endswith("01-乡村振兴 第1集/web/master.m3u8") for n in names)


def test_a_failed_build_publishes_nothing(
    session: Session, runtime: Runtime, world: dict, tmp_path: Path
) -> None:
    release = published(session, world)
    playback = next(p for p in release.packages if p.kind == PackageKind.PLAYBACK)
    v2 = world["versions"][1]
    session.delete(v2.rendition("mobile"))  # the second episode lacks a file: fails half-way
    session.commit()
    session.expire_all()  # the worker's session reads fresh rows
    with pytest.raises(Conflict, match="has no mobile rendition"):
        PackageBuilder(session, runtime.storage, tmp_path / "work").build(playback.id)
    session.refresh(playback)
    assert playback.state == PackageState.FAILED and "mobile" in playback.last_error
    assert list(runtime.storage.list("packages/")) == []
    assert list(runtime.storage.list("tmp/")) == []
    assert list((tmp_path / "work").iterdir()) == []


def test_counties_see_only_their_releases(
    session: Session, runtime: Runtime, world: dict, tmp_path: Path
) -> None:
    release = published(session, world, targets=[world["a"].id])
    svc = CountyDistribution(session)
    tv = next(p for p in release.packages if p.kind == PackageKind.TV)
    PackageBuilder(session, runtime.storage, tmp_path).build(tv.id)
    assert [r.id for r in svc.for_county(world["a"].id)] == [release.id]
    assert svc.for_county(world["b"].id) == []
    assert svc.package_for_download(tv.id, world["county_a"]) is tv
    with pytest.raises(NotFound):
        svc.package_for_download(tv.id, world["county_b"])
    refused = session.scalar(select(AuditEvent).where(AuditEvent.action == "download_refused"))
    assert refused is not None and refused.actor_id == world["county_b"].id
    with pytest.raises(NotFound):
        svc.confirm_receipt(release, world["county_b"])


def test_withdrawal_needs_a_reason_and_blocks_downloads(
    session: Session, runtime: Runtime, world: dict, tmp_path: Path
) -> None:
    release = published(session, world)
    svc = ReleaseService(session)
    county_side = CountyDistribution(session)
    tv = next(p for p in release.packages if p.kind == PackageKind.TV)
    PackageBuilder(session, runtime.storage, tmp_path).build(tv.id)
    with pytest.raises(InvalidInput, match="needs a reason"):
        svc.withdraw(release, "  ", world["publisher"])
    svc.withdraw(release, "片中数据有误，需更正", world["publisher"])
    assert {v.state for v in world["versions"]} == {VersionState.WITHDRAWN}
    with pytest.raises(NotAllowed, match="片中数据有误"):
        county_side.package_for_download(tv.id, world["county_a"])
    assert [r.state for r in county_side.for_county(world["a"].id)] == [ReleaseState.WITHDRAWN]


def test_receipts_screenings_and_coverage(
    session: Session, runtime: Runtime, world: dict, tmp_path: Path
) -> None:
    release = published(session, world, targets=[world["a"].id, world["b"].id])
    svc = CountyDistribution(session)
    tv = next(p for p in release.packages if p.kind == PackageKind.TV)
    PackageBuilder(session, runtime.storage, tmp_path).build(tv.id)
    svc.record_download(tv, world["county_a"], start=0, sent=tv.size or 0)
    first = svc.confirm_receipt(release, world["county_a"])
    assert svc.confirm_receipt(release, world["county_a"]).id == first.id  # idempotent
    svc.report_screening(
        release, world["county_a"], screened_on=date.today(), place="城关镇李家村放映点", viewers=85
    )
    with pytest.raises(InvalidInput, match="before it happens"):
        svc.report_screening(
            release,
            world["county_a"],
            screened_on=date.today() + timedelta(days=9),
            place="x",
            viewers=1,
        )
    with pytest.raises(InvalidInput, match="viewers"):
        svc.report_screening(
            release, world["county_a"], screened_on=date.today(), place="x", viewers=-4
        )
    rows = {c.county.code: c for c in CoverageReports(session).coverage(release)}
    assert rows["a"].downloaded and rows["a"].confirmed_at and not rows["a"].overdue
    assert (rows["a"].screenings, rows["a"].viewers, rows["a"].copies_needed) == (1, 85, 4)
    assert not rows["b"].downloaded and rows["b"].confirmed_at is None
    assert rows["b"].copies_needed == 1
    later = CoverageReports(session).coverage(release, now=utcnow() + timedelta(days=30))
    assert {c.county.code: c.overdue for c in later} == {"a": False, "b": True}


def test_failed_package_can_be_rebuilt(session: Session, runtime: Runtime, world: dict,
                                       tmp_path: Path, clip: Path) -> None:
    release = published(session, world)
    playback = next(p for p in release.packages if p.kind == PackageKind.PLAYBACK)
    v2 = world["versions"][1]
    mobile = v2.rendition("mobile")
    session.delete(mobile)
    session.commit()
    session.expire_all()
    with pytest.raises(Conflict):
        PackageBuilder(session, runtime.storage, tmp_path).build(playback.id)
    svc = ReleaseService(session)
    with pytest.raises(NotAllowed):
        svc.rebuild_package(playback.id, world["county_a"])
    svc.rebuild_package(playback.id, world["publisher"])
    assert playback.state == PackageState.QUEUED and playback.last_error is None
    key = f"renditions/{v2.id}/mobile/mobile.mp4"  # the missing rendition is made again
    size = runtime.storage.put_file(key, clip)
    session.add(Rendition(version_id=v2.id, profile="mobile", storage_key=key,
                          mime_type="video/mp4", size=size))
    session.commit()
    session.expire_all()
    built = PackageBuilder(session, runtime.storage, tmp_path).build(playback.id)
    assert built.state == PackageState.READY
    with pytest.raises(Conflict, match="is already ready"):
        svc.rebuild_package(playback.id, world["publisher"])
    trail = session.execute(
        select(AuditEvent.action, AuditEvent.from_state, AuditEvent.to_state, AuditEvent.actor_id)
        .where(AuditEvent.object_type == "package", AuditEvent.object_id == playback.id)
        .order_by(AuditEvent.id)
    ).all()
    assert [tuple(t) for t in trail] == [
        ("package_build_started", "queued", "building", None),
        ("package_build_failed", "building", "failed", None),
        ("package_rebuild", "failed", "queued", world["publisher"].id),
        ("package_build_started", "queued", "building", None),
        ("package_built", "building", "ready", None),
    ]


def test_cli_shows_package_progress(session: Session, runtime: Runtime, world: dict,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from mam.cli import cli

    release = published(session, world)
    for key, value in runtime.settings.to_env().items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(cli, ["releases", "show", str(release.id)])
    assert result.exit_code == 0, result.output
    assert "乡村振兴 第1集" in result.output and "tv        Queued      0.0%" in result.output
    listing = CliRunner().invoke(cli, ["releases"])
    assert release.name in listing.output and "tv:Queued" in listing.output


def test_a_superseded_package_build_publishes_nothing(
    session: Session, runtime: Runtime, world: dict, tmp_path: Path
) -> None:
    """The build loses its lease half-way (taken over, claimed by a newer attempt): it
    stops, publishes nothing and leaves the row to the newer attempt."""
    from mam.errors import Superseded
    from mam.models.release import ReleasePackage

    release = published(session, world)
    tv = next(p for p in release.packages if p.kind == PackageKind.TV)

    def newer_attempt_claims(_percent: float) -> None:
        with runtime.db.session() as other:
            row = other.get_one(ReleasePackage, tv.id)
            row.attempts += 1  # as the next claim after the reconciler's take-over does
            row.worker = "newer"

    with pytest.raises(Superseded):
        PackageBuilder(session, runtime.storage, tmp_path / "work").build(
            tv.id, newer_attempt_claims
        )
    session.rollback()  # the stale task's unit of work ends
    assert not runtime.storage.exists(package_key(release.id, PackageKind.TV))
    assert list(runtime.storage.list("tmp/packages/")) == []
    session.expire_all()
    row = session.get_one(ReleasePackage, tv.id)
    assert (row.state, row.attempts, row.worker) == (PackageState.BUILDING, 2, "newer")
    assert row.last_error is None
