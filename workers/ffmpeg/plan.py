"""What one decode of a source produces: every output's size decided from the probe (pure).

Never upscale: HLS rungs above the source are skipped (at least the smallest rung is
kept, at the source's own height), MP4s keep the source's height when it is smaller.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from mam.errors import InvalidMedia
from mam.messages import media
from mam.probe import MediaInfo
from workers.ffmpeg.normalise import (
    FALLBACK_RATE,
    constant_frame_rate,
    fit_within,
    scaled_size,
)
from workers.ffmpeg.specs import (
    HlsRendition,
    HlsRung,
    Loudness,
    Mp4Rendition,
    PosterSpec,
    QcSpec,
    Rendition,
    SpriteSpec,
    ThumbnailSpec,
)

# Sub-directories of the output directory where the one decode writes still images.
CANDIDATES = "poster-candidates"
CELLS = "sprite-cells"
THUMB_FRAMES = "thumb-frames"


@dataclass(frozen=True)
class PlannedMp4:
    spec: Mp4Rendition
    width: int
    height: int

    @property
    def file(self) -> str:
        return f"{self.spec.name}.mp4"


@dataclass(frozen=True)
class PlannedRung:
    spec: HlsRung
    name: str  # e.g. "720p": the variant's directory and NAME in the master playlist
    width: int
    height: int


@dataclass(frozen=True)
class PlannedHls:
    spec: HlsRendition
    rungs: tuple[PlannedRung, ...]

    @property
    def master(self) -> str:
        return f"{self.spec.name}/{self.spec.master}"


@dataclass(frozen=True)
class EncodePlan:
    """What one decode of a source produces, sizes decided."""

    rate: Fraction
    mp4: tuple[PlannedMp4, ...]
    hls: tuple[PlannedHls, ...]
    poster: PosterSpec | None = None
    poster_size: tuple[int, int] | None = None
    sprite: SpriteSpec | None = None
    cell_size: tuple[int, int] | None = None
    sprite_interval: float = 0.0
    qc: QcSpec | None = None
    analysis_size: tuple[int, int] | None = None
    thumb_size: tuple[int, int] | None = None
    thumb_frames: tuple[int, ...] = ()  # frame number of each thumbnail at ``rate``

    @property
    def selected_thumb_frames(self) -> list[int]:
        """Return the frames the thumbnail branch writes, in order: frame 0 (so that its
        output starts at once) and every thumbnail's frame, each once."""
        return sorted({0, *self.thumb_frames})

    @property
    def loudness_targets(self) -> list[Loudness]:
        """Return the distinct loudness targets, in the order renditions use them."""
        targets = [m.spec.loudness for m in self.mp4] + [h.spec.loudness for h in self.hls]
        return list(dict.fromkeys(targets))

    def directories(self) -> list[str]:
        """Return the sub-directories (of the output directory) ffmpeg writes into."""
        dirs = [h.spec.name for h in self.hls]
        dirs += [CANDIDATES] if self.poster else []
        dirs += [THUMB_FRAMES] if self.thumb_frames else []
        return dirs + ([CELLS] if self.sprite else [])


def sprite_interval(duration: float, spec: SpriteSpec) -> float:
    """Return whole seconds between sprite cells: at least ``min_interval``, at most
    ``max_cells`` cells for the film."""
    return float(max(math.ceil(spec.min_interval), math.ceil(duration / spec.max_cells)))


def thumbnail_frames(duration: float, count: int, rate: Fraction) -> tuple[int, ...]:
    """Return the frames of ``count`` evenly spaced thumbnails: the middles of equal
    stretches of the film, as frame numbers at ``rate``."""
    last = max(0, math.floor(duration * rate) - 1)
    return tuple(min(last, math.floor(duration * (i + 0.5) / count * rate)) for i in range(count))


def plan_encode(
    info: MediaInfo,
    renditions: Sequence[Rendition],
    *,
    poster: PosterSpec | None = None,
    sprite: SpriteSpec | None = None,
    qc: QcSpec | None = None,
    thumbnails: ThumbnailSpec | None = None,
) -> EncodePlan:
    """Decide every output's size for this source (pure)."""
    video = info.primary_video
    if video is None:
        raise InvalidMedia(media.SOURCE_NO_VIDEO)
    names = [r.name for r in renditions]
    if len(set(names)) != len(names):
        raise ValueError(f"rendition names must be unique: {names}")
    dw, dh = video.display_width, video.display_height
    mp4 = tuple(
        PlannedMp4(r, *scaled_size(dw, dh, r.max_height))
        for r in renditions
        if isinstance(r, Mp4Rendition)
    )
    hls = []
    for r in renditions:
        if not isinstance(r, HlsRendition):
            continue
        # Never upscale: skip rungs taller than the source; keep at least the smallest
        # one, at the source's own height.
        kept = [rung for rung in r.rungs if rung.max_height <= dh] or [r.rungs[-1]]
        rungs = []
        for rung in kept:
            width, height = scaled_size(dw, dh, rung.max_height)
            rungs.append(PlannedRung(rung, f"{height}p", width, height))
        hls.append(PlannedHls(r, tuple(rungs)))
    cell = fit_within(dw, dh, sprite.cell_width, sprite.cell_height) if sprite else None
    rate = constant_frame_rate(video) or video.rate or FALLBACK_RATE
    return EncodePlan(
        rate=rate,
        mp4=mp4,
        hls=tuple(hls),
        poster=poster,
        poster_size=scaled_size(dw, dh, poster.max_height) if poster else None,
        sprite=sprite,
        cell_size=cell,
        sprite_interval=sprite_interval(info.duration, sprite) if sprite else 0.0,
        qc=qc,
        analysis_size=scaled_size(dw, dh, qc.analysis_height) if qc else None,
        thumb_size=scaled_size(dw, dh, thumbnails.max_height) if thumbnails else None,
        thumb_frames=thumbnail_frames(info.duration, thumbnails.count, rate) if thumbnails else (),
    )
