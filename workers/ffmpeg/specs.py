"""What to make of a source: rendition, still-image and analysis specifications (pure data).

``workers/profiles.py`` builds these from the profiles file; the command builders in
this package turn them into ffmpeg argument lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workers.ffmpeg.branding import Branding


@dataclass(frozen=True)
class Loudness:
    """An EBU R128 target: integrated loudness (LUFS), true peak (dBTP), loudness range (LU).

    The range is generous on purpose: loudnorm normalises linearly (one gain for the
    whole programme, the point of two passes) only while the source's range fits in it.
    """

    integrated: float = -23.0
    true_peak: float = -1.0
    lra: float = 20.0

    @property
    def label(self) -> str:
        """Return a short name such as ``-23 LUFS / -1 dBTP``."""
        return f"{self.integrated:g} LUFS / {self.true_peak:g} dBTP"


@dataclass(frozen=True)
class Mp4Rendition:
    """One H.264/AAC MP4 output; ``crf`` switches from average bitrate to CRF."""

    name: str
    max_height: int
    video_bitrate: str
    maxrate: str | None
    bufsize: str | None
    audio_bitrate: str
    h264_profile: str = "main"
    crf: int | None = None
    preset: str = "veryfast"
    gop_seconds: float = 2.0
    audio_rate: int = 48000
    loudness: Loudness = field(default_factory=Loudness)
    faststart: bool = True
    branding: Branding | None = None  # logo, open captions, cards (workers.ffmpeg.branding)


@dataclass(frozen=True)
class HlsRung:
    """One variant stream of an HLS ladder."""

    max_height: int
    video_bitrate: str
    maxrate: str | None
    bufsize: str | None
    audio_bitrate: str = "128k"
    h264_profile: str = "high"


@dataclass(frozen=True)
class HlsRendition:
    """An HLS ladder: MPEG-TS segments per rung and a master playlist.

    Every rung shares the keyframe cadence (``gop_seconds``, no scene-cut keyframes),
    so segments of ``segment_seconds`` (a multiple of the GOP) start on a keyframe and
    line up across rungs.
    """

    name: str
    rungs: tuple[HlsRung, ...]
    segment_seconds: float = 6.0
    gop_seconds: float = 2.0
    preset: str = "veryfast"
    audio_rate: int = 48000
    loudness: Loudness = field(default_factory=Loudness)
    master: str = "master.m3u8"
    branding: Branding | None = None  # on every rung


Rendition = Mp4Rendition | HlsRendition


@dataclass(frozen=True)
class PosterSpec:
    """A JPEG poster: ``candidates`` frames sampled between two fractions of the film,
    blank or black ones dropped, then ffmpeg's ``thumbnail`` filter picks the most
    representative of the rest."""

    max_height: int = 540
    window_start: float = 0.1
    window_end: float = 0.5
    candidates: int = 50
    # Normalised luma entropy below which a frame counts as black or blank (0..1).
    min_entropy: float = 0.25


@dataclass(frozen=True)
class ThumbnailSpec:
    """``count`` evenly spaced JPEG thumbnails, selected from the one decode (see ``stills``)."""

    count: int = 10
    max_height: int = 180


@dataclass(frozen=True)
class SpriteSpec:
    """Scrub-preview cells every ``interval`` seconds (or fewer, see ``max_cells``),
    tiled ``columns`` x ``rows`` per sheet, plus a WebVTT track pointing into them."""

    cell_width: int = 160
    cell_height: int = 90
    min_interval: float = 1.0
    max_cells: int = 400
    columns: int = 10
    rows: int = 10


@dataclass(frozen=True)
class QcSpec:
    """Thresholds of the QC analysis (ffmpeg's blackdetect, silencedetect, freezedetect)."""

    black_min_seconds: float = 1.0
    black_pixel_threshold: float = 0.10
    black_picture_ratio: float = 0.98
    silence_noise_db: float = -60.0
    silence_min_seconds: float = 2.0
    freeze_noise_db: float = -60.0
    freeze_min_seconds: float = 2.0
    loudness_tolerance: float = 1.0
    # Height of the picture the video analysis looks at (small is cheap and enough).
    analysis_height: int = 180


@dataclass(frozen=True)
class ProfileSet:
    """Everything the profiles file decides."""

    renditions: tuple[Rendition, ...]
    poster: PosterSpec = field(default_factory=PosterSpec)
    thumbnails: ThumbnailSpec = field(default_factory=ThumbnailSpec)
    sprite: SpriteSpec = field(default_factory=SpriteSpec)
    qc: QcSpec = field(default_factory=QcSpec)
    source: str = "<built in>"

    def rendition(self, name: str) -> Rendition:
        """Return the rendition called ``name`` (KeyError if there is none)."""
        for r in self.renditions:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Return the rendition names in file order."""
        return tuple(r.name for r in self.renditions)
