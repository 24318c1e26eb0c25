"""Build a release package: a validated BagIt 1.0 bag with PBCore records, as a stored ZIP."""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import re
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import bagit
from sqlalchemy.orm import Session

from mam.errors import Conflict, NotAllowed, NotFound, Superseded
from mam.exports import tag_value
from mam.i18n import translator
from mam.leases import Lease, claim_values
from mam.machines import PACKAGE, PackageEvent
from mam.messages import release as release_messages
from mam.models import County, Rendition, Version, utcnow
from mam.models.catalogue import EpisodeDetail
from mam.models.licence import Licence
from mam.models.release import PackageKind, PackageState, ReleasePackage, ReleaseSet, ReleaseState
from mam.pbcore import FileEntry, episode_document
from mam.profile_labels import describe, profile_label
from mam.services.licences import LicenceService
from mam.services.subtitles import current_subtitles
from mam.uow import checkpoint
from storage import Storage

log = logging.getLogger(__name__)

# Which renditions go into which package.
KIND_PROFILES: dict[PackageKind, tuple[str, ...]] = {
    PackageKind.TV: ("broadcast",),
    PackageKind.PLAYBACK: ("playback", "mobile"),
    PackageKind.WEB: ("web",),
}
# What the README calls each package (it is read at the county centres, in Chinese); the
# picture size, codec and bitrate next to it come from the files themselves (describe()).
KIND_LABELS = {
    PackageKind.TV: "电视台播出版",
    PackageKind.PLAYBACK: "村级放映点版",
    PackageKind.WEB: "网络学习版（HLS 多码率）",
}
ORGANIZATION = "电教中心 Educational Film Library"
USE_NAMES_ZH = {"tv": "电视播出", "playback": "村级播放", "web": "网上学习"}  # PBCore is Chinese


def _rights_summary(licence: Licence | None, detail: EpisodeDetail | None) -> str:
    """Return the PBCore rights line: the licence, else the old rights fields, else ours."""
    if licence is not None:
        uses = "、".join(USE_NAMES_ZH[u] for u in licence.uses if u in USE_NAMES_ZH)
        period = f"{licence.starts_on or ''}至{licence.ends_on or '长期'}"
        ref = f"（合同 {licence.contract_ref}）" if licence.contract_ref else ""
        return f"{licence.holder}{ref}，许可用途：{uses}，有效期 {period}"
    if detail and detail.rights_holder:
        expiry = f"，有效期至 {detail.rights_expiry}" if detail.rights_expiry else ""
        return f"{detail.rights_holder}{expiry}"
    return "版权归电教中心所有，仅限县级电教中心教学播放使用"


def package_key(release_id: int, kind: PackageKind, county_id: int | None = None) -> str:
    """Return the storage key of a published package (``county_id``: made for that county)."""
    if county_id is not None:
        return f"packages/{release_id}/{kind.value}-county-{county_id}.zip"
    return f"packages/{release_id}/{kind.value}.zip"


def safe_name(text: str, limit: int = 60) -> str:
    """Return ``text`` usable as a folder name on Windows, FAT USB sticks and Linux."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", text).strip(" .")
    return cleaned[:limit] or "untitled"


@dataclass
class _File:
    key: str
    dest: Path  # relative to the payload root
    size: int
    mime: str
    media_info: dict


@dataclass(frozen=True)
class BrandedFile:
    """A rendition re-encoded for one package with its own logo (workers.branded)."""

    key: str
    size: int
    media_info: dict


class PackageBuilder:
    """Assemble, bag, validate, zip and publish one package of a release set."""

    def __init__(
        self,
        session: Session,
        storage: Storage,
        work_dir: Path,
        *,
        worker: str = "worker",
        lease_ttl: timedelta = timedelta(minutes=5),
        brand: Callable[[ReleasePackage], Mapping[tuple[int, str], BrandedFile]] | None = None,
    ) -> None:
        # ``brand`` (workers.branded) returns the renditions re-encoded for this package
        # with its own logo, by (version id, profile); the build fails if it does.
        self.brand = brand
        self.branded: dict[tuple[int, str], BrandedFile] = {}
        self.session = session
        self.storage = storage
        self.work_dir = work_dir
        self.worker = worker
        self.lease_ttl = lease_ttl
        self._readme_text = ""

    def build(
        self, package_id: int, on_progress: Callable[[float], None] | None = None
    ) -> ReleasePackage:
        """Build the package; on any failure it is marked failed and nothing is published.

        The build is claimed (attempt number, lease) at a checkpoint before the long work;
        the lease is renewed per fetched file and by a keep-alive thread through bagging,
        validation and zipping; a superseded attempt publishes nothing
        (``mam.errors.Superseded``).
        """
        package = self.session.get(ReleasePackage, package_id)
        if package is None:
            raise NotFound(release_messages.PACKAGE_MISSING, params={"id": package_id})
        release = package.release
        if release.state != ReleaseState.PUBLISHED:
            raise NotAllowed(release_messages.NOT_PUBLISHED, params={"name": release.name})
        PACKAGE.fire(self.session, package, PackageEvent.START_BUILD, None)
        package.progress, package.last_error = 0.0, None
        package.attempts += 1
        claim = claim_values(self.worker, self.lease_ttl)
        package.worker, package.heartbeat_at = claim["worker"], claim["heartbeat_at"]
        package.lease_expires_at = claim["lease_expires_at"]
        checkpoint(self.session, "the claim of the build before the long work")
        bind = self.session.get_bind()
        lease = Lease(bind.engine, ReleasePackage, package.id, package.attempts, self.lease_ttl)
        with lease.kept_alive():
            return self._build(package, lease, on_progress)

    def _build(
        self,
        package: ReleasePackage,
        lease: Lease,
        on_progress: Callable[[float], None] | None,
    ) -> ReleasePackage:
        release = package.release

        def progress(percent: float) -> None:
            # No transaction (on SQLite: the write lock) held across the fetches; nothing is
            # pending here, the claim was committed.
            checkpoint(self.session, "no transaction held while files are fetched")
            lease.renew(progress=round(percent, 1))  # each fetched file renews the lease
            if on_progress:
                on_progress(percent)

        final = package_key(release.id, package.kind, package.county_id)
        staging_key = f"tmp/packages/{package.id}-{utcnow().timestamp():.0f}.zip"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._encode_branded(package)
            files = self._plan(release, package.kind)
            with tempfile.TemporaryDirectory(prefix=f"pkg{package.id}-", dir=self.work_dir) as tmp:
                root = Path(tmp) / "bag"
                root.mkdir()
                self._fetch(files, root, progress)
                self._describe(package, files, root)
                checkpoint(self.session, "no transaction held while bagging and zipping")
                bag = bagit.make_bag(str(root), self._bag_info(package), checksums=["sha256"])
                # README.txt beside bag-info.txt: a tag file, listed in the tag manifest.
                (root / "README.txt").write_text(self._readme_text, encoding="utf-8")
                bag.save()
                bag.validate(completeness_only=False)  # every checksum, before publishing
                archive = Path(tmp) / "package.zip"
                count = _zip(root, archive, _top_folder(package))
                digest = _sha256(archive)
                size = self.storage.put_file(staging_key, archive, content_type="application/zip")
            lease.check()  # fencing: a superseded attempt publishes nothing
            self.storage.move(staging_key, final)
        except Superseded:
            self.storage.delete(staging_key)
            raise
        except Exception as exc:
            self.storage.delete(staging_key)
            self.session.rollback()
            lease.check()
            if package.state is PackageState.BUILDING:  # not re-queued by someone meanwhile
                PACKAGE.fire(
                    self.session, package, PackageEvent.BUILD_FAILED, None, reason=str(exc)
                )
                package.last_error = str(exc)
            package.lease_expires_at = None
            checkpoint(self.session, "the failure is recorded although the error propagates")
            raise
        lease.check()
        lease.release()
        PACKAGE.fire(self.session, package, PackageEvent.BUILT, None, details={"size": size})
        package.progress = 100.0
        package.lease_expires_at = None
        package.storage_key, package.size, package.sha256, package.files = (
            final,
            size,
            digest,
            count,
        )
        package.built_at = utcnow()
        self.session.flush()
        return package

    def _encode_branded(self, package: ReleasePackage) -> None:
        if self.brand is not None:
            checkpoint(self.session, "no transaction held while a branded copy is encoded")
            self.branded = dict(self.brand(package))

    def _plan(self, release: ReleaseSet, kind: PackageKind) -> list[_File]:
        files: list[_File] = []
        for n, item in enumerate(release.items, start=1):
            version = item.version
            folder = Path(f"{n:02d}-{safe_name(version.episode.title)}")
            for profile in KIND_PROFILES[kind]:
                if (branded := self.branded.get((version.id, profile))) is not None:
                    dest = folder / profile / branded.key.rsplit("/", 1)[-1]
                    files.append(_File(branded.key, dest, branded.size, "video/mp4",
                                       branded.media_info))  # fmt: skip
                    continue
                rendition = version.rendition(profile)
                if rendition is None:
                    raise Conflict(
                        release_messages.NO_RENDITION,
                        params={
                            "title": version.episode.title,
                            "number": version.number,
                            "profile": profile,
                        },
                    )
                files += self._rendition_files(rendition, folder / profile)
            for obj in self.storage.list(f"thumbs/{version.id}/"):
                files.append(
                    self._file(obj.key, folder / "images" / obj.key.rsplit("/", 1)[-1], obj.size)
                )
            for sub in current_subtitles(self.session, version):
                name = f"{safe_name(sub.language or 'subtitle', 20)}-{sub.id}.vtt"
                files.append(
                    self._file(
                        sub.storage_key,
                        folder / "subtitles" / name,
                        self.storage.size(sub.storage_key),
                    )
                )
        return files

    def _rendition_files(self, rendition: Rendition, dest: Path) -> list[_File]:
        prefix = rendition.storage_key.rsplit("/", 1)[0] + "/"
        if rendition.mime_type.endswith("mpegurl"):  # an HLS folder: take all of it
            return [
                self._file(o.key, dest / o.key[len(prefix) :], o.size)
                for o in self.storage.list(prefix)
            ]
        name = rendition.storage_key.rsplit("/", 1)[-1]
        return [
            _File(
                rendition.storage_key,
                dest / name,
                rendition.size,
                rendition.mime_type,
                rendition.media_info or {},
            )
        ]

    def _file(self, key: str, dest: Path, size: int) -> _File:
        return _File(key, dest, size, mimetypes.guess_type(key)[0] or _mime_by_ext(key), {})

    def _fetch(
        self, files: list[_File], root: Path, on_progress: Callable[[float], None] | None
    ) -> None:
        total = sum(f.size for f in files) or 1
        done = 0
        for f in files:
            self.storage.download_to(f.key, root / f.dest)
            done += f.size
            if on_progress:
                on_progress(90.0 * done / total)  # the rest: bagging, validating, zipping

    def _describe(self, package: ReleasePackage, files: list[_File], root: Path) -> None:
        release, kind, county = package.release, package.kind, package.county
        episodes = []
        for n, item in enumerate(release.items, start=1):
            version: Version = item.version
            ep = version.episode
            folder = Path(f"{n:02d}-{safe_name(ep.title)}")
            mine = [f for f in files if f.dest.parts[0] == folder.name]
            rights = _rights_summary(
                LicenceService(self.session).for_episode(ep),
                self.session.get(EpisodeDetail, ep.id),
            )
            xml = episode_document(
                identifier=f"release-{release.id}/version-{version.id}",
                organization=ORGANIZATION,
                series=ep.programme.name,
                episode=ep.title,
                description=ep.synopsis,
                rights=rights,
                sha256=version.sha256,
                files=[
                    FileEntry(f"data/{f.dest.as_posix()}", f.mime, f.size, f.media_info)
                    for f in mine
                ],
            )
            (root / folder / "pbcore.xml").write_bytes(xml)
            episodes.append(
                {
                    "folder": folder.name,
                    "programme": ep.programme.name,
                    "title": ep.title,
                    "version": version.number,
                    "version_id": version.id,
                    "sha256": version.sha256,
                    "files": [
                        {"path": f.dest.as_posix(), "size": f.size, "type": f.mime} for f in mine
                    ],
                }
            )
        manifest = {
            "release": {
                "id": release.id,
                "name": release.name,
                "published_at": release.published_at.isoformat() if release.published_at else None,
                "notes": release.notes,
            },
            "package": kind.value,
            # The county the package was made for (its own logo); null: shared.
            "county": {"code": county.code, "name": county.name} if county else None,
            "episodes": episodes,
        }
        (root / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        self._readme_text = _readme(
            release, kind, episodes, package_contents(release, kind), county
        )

    def _bag_info(self, package: ReleasePackage) -> dict[str, str]:
        release, kind, county = package.release, package.kind, package.county
        for_county = f" {county.code} {county.name}" if county else ""
        info = {
            "Source-Organization": ORGANIZATION,
            "External-Identifier": f"release-{release.id}",
            "External-Description": f"{release.name} {kind.value}{for_county}",
            "Bag-Group-Identifier": release.name,
        }
        return {label: tag_value(value) for label, value in info.items()}


def package_contents(release: ReleaseSet, kind: PackageKind) -> dict[str, list[Rendition]]:
    """Return, per profile of a package kind, the renditions its episodes put in it."""
    found: dict[str, list[Rendition]] = {}
    for item in release.items:
        for profile in KIND_PROFILES[kind]:
            rendition = item.version.rendition(profile)
            if rendition is not None:
                found.setdefault(profile, []).append(rendition)
    return found


def _readme(
    release: ReleaseSet,
    kind: PackageKind,
    episodes: list[dict],
    contents: dict[str, list[Rendition]],
    county: County | None = None,
) -> str:
    zh = translator("zh_CN")
    held = "；".join(
        f"{profile_label(profile, 'zh_CN', zh)} {describe(renditions)}".strip()
        for profile, renditions in contents.items()
    )
    lines = [
        f"{release.name} 供片包 —— {KIND_LABELS[kind]}",
        *([f"本包专供{county.name}（{county.code}），带本县台标。"] if county else []),
        *([f"影片格式（按实际文件）：{held}"] if held else []),
        "",
        "本包是 BagIt 1.0 格式的数据包（https://www.rfc-editor.org/rfc/rfc8493）。",
        "目录说明：",
        "  data/                每集一个文件夹：影片文件、海报与缩略图（images/）、",
        "                       字幕（subtitles/）以及 PBCore 2.1 元数据（pbcore.xml）；",
        "  data/manifest.json   本期节目清单（机器可读）；",
        "  README.txt           本说明；",
        "  manifest-sha256.txt  每个文件的 SHA-256 校验值；",
        "  bag-info.txt         发布单位、批次编号、打包日期和 Payload-Oxum（文件数与总字节数）。",
        "",
        "如何校验：",
        "  1. 安装 Python 后执行：pip install bagit",
        "  2. 解压本 ZIP，然后执行：bagit.py --validate 解压后的目录",
        "     显示 “is valid” 即表示文件完整无误；",
        "  3. 也可以逐个用 sha256sum 与 manifest-sha256.txt 对照。",
        "",
        f"本期共 {len(episodes)} 集：",
    ]
    lines += [
        f"  {e['folder']}  《{e['programme']}》 {e['title']}（第 {e['version']} 版）"
        for e in episodes
    ]
    if release.notes:
        lines += ["", "发布说明：", f"  {release.notes}"]
    return "\r\n".join(lines) + "\r\n"  # CRLF: opened on Windows PCs at county centres


def _top_folder(package: ReleasePackage) -> str:
    """Return the folder a package's ZIP unpacks into (``2026年第12期-tv`` or ``…-tv-a``)."""
    name = f"{safe_name(package.release.name)}-{package.kind.value}"
    return f"{name}-{safe_name(package.county.code, 20)}" if package.county else name


def _zip(root: Path, archive: Path, top: str) -> int:
    """Write ``root`` into an uncompressed ZIP under folder ``top``; return the file count."""
    count = 0
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, f"{top}/{path.relative_to(root).as_posix()}")
                count += 1
    return count


def _sha256(path: Path) -> str:
    """Return the SHA-256 of a file."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _mime_by_ext(key: str) -> str:
    ext = key.rsplit(".", 1)[-1].lower()
    return {
        "m3u8": "application/vnd.apple.mpegurl",
        "ts": "video/mp2t",
        "m4s": "video/iso.segment",
        "vtt": "text/vtt",
    }.get(ext, "application/octet-stream")
