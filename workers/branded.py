"""Renditions re-encoded for one release set's TV package with its own logo.

The renditions made at ingest carry the site's branding (the profiles file). A TV package
of a release set with its own logo, or made for a county that has one (``mam.services.
branding.package_logo``, ``tv_audiences``), needs the profiles whose branding asks for a
logo (``broadcast`` by default) encoded again with that logo: from the source, one decode,
the same filter graph as ingest (``workers.ffmpeg.commands``) with only those renditions,
loudness measured and normalised as at ingest. Everything else in the package is the ingest's files.

The encode is stored under ``branded/<version>/<profile>-<logo hash>.mp4``: a rebuilt
package, or another set with the same logo and version, reuses it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mam.config import Settings
from mam.models.release import PackageKind, ReleasePackage
from mam.probe import MediaInfo, probe
from mam.services.branding import package_logo
from mam.services.packaging import KIND_PROFILES, BrandedFile
from storage import Storage
from workers.ffmpeg import analysis
from workers.ffmpeg.branding import BrandingInputs
from workers.ffmpeg.commands import build_process_command
from workers.ffmpeg.plan import plan_encode
from workers.ffmpeg.runner import run_ffmpeg
from workers.ffmpeg.specs import Mp4Rendition, ProfileSet


def branded_key(version_id: int, profile: str, logo_key: str) -> str:
    """Return the storage key of ``profile`` of a version encoded with ``logo_key``."""
    digest = logo_key.rsplit("/", 1)[-1].split(".", maxsplit=1)[0][:16]
    return f"branded/{version_id}/{profile}-{digest}.mp4"


def encode_with_logo(
    source: str, info: MediaInfo, spec: Mp4Rendition, logo: str, out: Path, profiles: ProfileSet
) -> Path:
    """Encode ``spec`` of ``source`` into ``out`` with ``logo`` (a local PNG); return the file."""
    measured = None
    if info.primary_audio is not None:
        argv = analysis.build_audio_analysis_command(source, info, profiles.qc)
        result = run_ffmpeg(argv, duration=info.duration)
        measured = analysis.parse_loudnorm(result.log, analysis.MEASURE)
    plan = plan_encode(info, [spec])
    argv = build_process_command(
        source, info, str(out), plan, measured=measured, branding=BrandingInputs(logo=logo)
    )
    run_ffmpeg(argv, duration=info.duration)
    return out / plan.mp4[0].file


def branded_files(
    session: Session,
    storage: Storage,
    settings: Settings,
    profiles: ProfileSet,
    package: ReleasePackage,
) -> dict[tuple[int, str], BrandedFile]:
    """Return the package's renditions that carry the set's (or its county's) own logo,
    encoding those not made yet."""
    release, kind = package.release, package.kind
    logo_key = package_logo(release, package.county) if kind == PackageKind.TV else None
    if logo_key is None:
        return {}
    wanted = [
        spec
        for name in KIND_PROFILES[kind]
        if name in profiles.names
        and isinstance(spec := profiles.rendition(name), Mp4Rendition)
        and spec.branding is not None
        and spec.branding.logo is not None
    ]
    found: dict[tuple[int, str], BrandedFile] = {}
    work = Path(settings.work_dir or tempfile.gettempdir())
    work.mkdir(parents=True, exist_ok=True)
    with storage.local_copy(logo_key) as logo:
        for item in release.items:
            version = item.version
            for spec in wanted:
                key = branded_key(version.id, spec.name, logo_key)
                if not storage.exists(key):
                    info = MediaInfo.from_dict(version.asset.media_info)
                    with (
                        storage.local_copy(version.asset.storage_key) as source,
                        tempfile.TemporaryDirectory(prefix="branded-", dir=work) as tmp,
                    ):
                        made = encode_with_logo(str(source), info, spec, str(logo), Path(tmp),
                                                profiles)  # fmt: skip
                        storage.put_file(key, made, content_type="video/mp4")
                media = probe_stored(storage, key)
                found[(version.id, spec.name)] = BrandedFile(key, storage.size(key), media)
    return found


def probe_stored(storage: Storage, key: str) -> dict[str, Any]:
    """Return the probe of a stored file (for the package's PBCore record)."""
    with storage.local_copy(key) as path:
        return probe(path).to_dict()
