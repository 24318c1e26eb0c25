"""What a processing run works on and hands over: plans, finished files, storage keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mam.probe import MediaInfo


@dataclass(frozen=True)
class ProcessingPlan:
    """What a worker needs to process one version."""

    job_id: int
    version_id: int
    attempt: int
    source_key: str
    source_name: str
    media_info: MediaInfo
    # Branding inputs (workers.ffmpeg.branding): the episode's subtitles by language
    # (storage keys of WebVTT) and the opening slate's lines.
    subtitle_keys: dict[str, str] = field(default_factory=dict)
    slate_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class LocalFile:
    """A finished local file and the storage key it is published under."""

    path: Path
    key: str


@dataclass(frozen=True)
class RenditionOutput:
    """A finished rendition: one file (MP4, poster) or a folder of them (HLS).

    ``key`` is the entry point recorded on the Rendition row (the MP4, the master
    playlist); ``files`` are everything to publish, the entry point included.
    """

    profile: str
    key: str
    files: tuple[LocalFile, ...]
    mime_type: str
    media_info: MediaInfo | None = None
    duration: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ThumbnailOutput:
    """Evenly spaced thumbnails, sprite sheets and their WebVTT track."""

    files: tuple[LocalFile, ...]
    thumbnails: tuple[tuple[str, float], ...]  # (key, time in seconds)
    sprite_keys: tuple[str, ...]
    vtt_key: str | None
    layout: dict[str, Any]


@dataclass(frozen=True)
class ProcessingResult:
    """Everything one processing run made, checked and ready to publish."""

    renditions: tuple[RenditionOutput, ...]
    thumbnails: ThumbnailOutput | None = None
    qc_report: dict[str, Any] | None = None
    loudness: dict[str, Any] | None = None

    @property
    def files(self) -> list[LocalFile]:
        found = [f for r in self.renditions for f in r.files]
        return found + (list(self.thumbnails.files) if self.thumbnails else [])


def rendition_key(version_id: int, profile: str, filename: str) -> str:
    """Return the deterministic storage key of a rendition file (``filename`` may hold
    sub-folders, e.g. ``720p/seg_00001.ts`` of an HLS ladder)."""
    if profile in ("poster", "thumbs"):
        return f"thumbs/{version_id}/{filename}"
    return f"renditions/{version_id}/{profile}/{filename}"


def version_prefixes(version_id: int) -> tuple[str, str]:
    """Return the storage prefixes only processing of ``version_id`` writes under."""
    return f"renditions/{version_id}/", f"thumbs/{version_id}/"
