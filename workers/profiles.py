"""Load and check the distribution profiles file (``workers/profiles.toml`` or ``MAM_PROFILES``).

Every problem is reported as a ``ProfileError`` naming the file and the key, e.g.
``profiles.toml: profiles.web.rungs[2].video_bitrate: expected a bitrate such as
'3000k' or '8M', got 'fast'``.  Unknown keys are errors too: a typo must not silently
fall back to a default.
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from mam.profile_labels import check_labels
from workers.ffmpeg.branding import POSITIONS, Branding, LogoSpec
from workers.ffmpeg.specs import (
    HlsRendition,
    HlsRung,
    Loudness,
    Mp4Rendition,
    PosterSpec,
    ProfileSet,
    QcSpec,
    Rendition,
    SpriteSpec,
    ThumbnailSpec,
)

SHIPPED = Path(__file__).with_name("profiles.toml")
PROXY = "proxy"  # the review copy: every profiles file must define it
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
BITRATE = re.compile(r"^[1-9][0-9]*(\.[0-9]+)?[kM]?$")
H264_PROFILES = ("baseline", "main", "high")
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower")
RESERVED = ("poster", "thumbs", "sprite")  # used by the thumbnail outputs
MAX_HEIGHT = 2160

T = TypeVar("T")


class ProfileError(ValueError):
    """The profiles file is missing, unreadable or invalid."""


class _Table:
    """A TOML table being read: hands out checked values, then refuses leftover keys."""

    def __init__(self, data: Mapping[str, Any], where: str, fail: Callable[[str], None]) -> None:
        self.data = dict(data)
        self.where = where
        self.fail = fail
        self.used: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def get(self, key: str, kind: type[T], default: T | None = None) -> T:
        """Return ``key`` as ``kind``; its default when absent (required if default is None)."""
        self.used.add(key)
        if key not in self.data:
            if default is None:
                self.fail(f"{self.path(key)}: missing")
            return default  # type: ignore[return-value]
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(f"{self.path(key)}: expected {kind.__name__}, got {value!r}")
        return value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self.get(key, float, default)
        if not (math.isfinite(value) and low <= value <= high):
            self.fail(f"{self.path(key)}: must be between {low:g} and {high:g}, got {value:g}")
        return value

    def integer(self, key: str, default: int | None, low: int, high: int) -> int:
        value = self.get(key, int, default)
        if not low <= value <= high:
            self.fail(f"{self.path(key)}: must be between {low} and {high}, got {value}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.get(key, str, default)
        if value not in choices:
            self.fail(f"{self.path(key)}: must be one of {', '.join(choices)}, got {value!r}")
        return value

    def bitrate(self, key: str, *, required: bool = True) -> str | None:
        if not required and key not in self.data:
            self.used.add(key)
            return None
        value = self.get(key, str)
        if not BITRATE.match(value):
            self.fail(
                f"{self.path(key)}: expected a bitrate such as '3000k' or '8M', got {value!r}"
            )
        return value

    def table(self, key: str) -> _Table:
        self.used.add(key)
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            self.fail(f"{self.path(key)}: expected a table, got {value!r}")
        return _Table(value, self.path(key), self.fail)

    def done(self) -> None:
        extra = sorted(set(self.data) - self.used)
        if extra:
            self.fail(f"{self.path(extra[0])}: unknown setting")


def _loudness(table: _Table, default: Loudness) -> Loudness:
    result = Loudness(
        integrated=table.number("integrated", default.integrated, -70.0, -5.0),
        true_peak=table.number("true_peak", default.true_peak, -9.0, 0.0),
        lra=table.number("lra", default.lra, 1.0, 50.0),
    )
    table.done()
    return result


def _video(table: _Table) -> dict[str, Any]:
    """Read the settings an MP4 profile and an HLS rung share."""
    return {
        "max_height": table.integer("max_height", None, 16, MAX_HEIGHT),
        "video_bitrate": table.bitrate("video_bitrate"),
        "maxrate": table.bitrate("maxrate", required=False),
        "bufsize": table.bitrate("bufsize", required=False),
        "audio_bitrate": table.bitrate("audio_bitrate"),
        "h264_profile": table.choice("h264_profile", H264_PROFILES, "main"),
    }


LANGUAGE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")


def _site_branding(table: _Table, base: Path | None) -> dict[str, Any]:
    """Read ``[branding]``: the site's logo, its placement and the cards' settings."""
    logo = table.get("logo", str, "")
    if logo and base is not None and not Path(logo).is_absolute():
        logo = str(base / logo)
    if logo and not Path(logo).is_file():
        table.fail(f"{table.path('logo')}: no such file: {logo}")
    site = {
        "logo": logo,
        **_placement(table, {}),
        "slate_seconds": table.number("slate_seconds", 4.0, 0.5, 30.0),
        "closing_seconds": table.number("closing_seconds", 3.0, 0.5, 30.0),
        "closing_text": table.get("closing_text", str, ""),
    }
    table.done()
    return site


def _placement(table: _Table, site: Mapping[str, Any]) -> dict[str, Any]:
    """Read the settings a profile may override: logo placement and caption size."""
    return {
        "position": table.choice("position", POSITIONS, site.get("position", "top-right")),
        "margin": table.number("margin", site.get("margin", 0.04), 0.0, 0.25),
        "scale": table.number("scale", site.get("scale", 0.10), 0.02, 0.5),
        "opacity": table.number("opacity", site.get("opacity", 0.8), 0.05, 1.0),
        "caption_size": table.number("caption_size", site.get("caption_size", 0.06), 0.02, 0.2),
    }


def _branding(table: _Table, site: Mapping[str, Any]) -> Branding | None:
    """Read ``[profiles.X.branding]`` over the site's defaults (absent: no branding)."""
    if "branding" not in table.data:
        table.used.add("branding")
        return None
    t = table.table("branding")
    place = _placement(t, site)
    # ``logo = true`` with no site logo: the profile carries a county's or a release set's
    # logo when one is given, nothing otherwise.
    logo = t.get("logo", bool, False)
    captions = t.get("captions", str, "") or None
    if captions is not None and not LANGUAGE.match(captions):
        t.fail(f"{t.path('captions')}: expected a language such as 'zh' or 'zh_CN'")
    closing = t.get("closing", bool, False)
    if closing and not site["closing_text"]:
        t.fail(f"{t.path('closing')}: no closing text: set branding.closing_text first")
    result = Branding(
        logo=LogoSpec(
            site["logo"], place["position"], place["margin"], place["scale"], place["opacity"]
        )
        if logo
        else None,
        captions=captions,
        caption_size=place["caption_size"],
        slate=t.get("slate", bool, False),
        closing=closing,
        slate_seconds=site["slate_seconds"],
        closing_seconds=site["closing_seconds"],
        closing_text=site["closing_text"],
    )
    t.done()
    return None if result.empty else result


def _mp4(
    name: str, table: _Table, loudness: Loudness, site: Mapping[str, Any] | None = None
) -> Mp4Rendition:
    crf = table.integer("crf", 0, 0, 51) if "crf" in table.data else None
    result = Mp4Rendition(
        name=name,
        **_video(table),
        crf=crf,
        preset=table.choice("preset", PRESETS, "veryfast"),
        gop_seconds=table.number("gop_seconds", 2.0, 0.5, 10.0),
        audio_rate=table.integer("audio_rate", 48000, 8000, 96000),
        loudness=_loudness(table.table("loudness"), loudness),
        faststart=table.get("faststart", bool, True),
        branding=_branding(table, site or _NO_SITE),
    )
    table.done()
    return result


_NO_SITE: dict[str, Any] = {"logo": "", "closing_text": ""}


def _hls(
    name: str, table: _Table, loudness: Loudness, site: Mapping[str, Any] | None = None
) -> HlsRendition:
    raw_rungs = table.get("rungs", list)
    if not raw_rungs:
        table.fail(f"{table.path('rungs')}: an HLS profile needs at least one rung")
    rungs = []
    for i, raw in enumerate(raw_rungs):
        if not isinstance(raw, dict):
            table.fail(f"{table.path(f'rungs[{i}]')}: expected a table, got {raw!r}")
        rung_table = _Table(raw, table.path(f"rungs[{i}]"), table.fail)
        rungs.append(HlsRung(**_video(rung_table)))
        rung_table.done()
    heights = [r.max_height for r in rungs]
    if heights != sorted(set(heights), reverse=True):
        table.fail(f"{table.path('rungs')}: rungs must go from the tallest down, heights unique")
    gop = table.number("gop_seconds", 2.0, 0.5, 10.0)
    segment = table.number("segment_seconds", 6.0, 1.0, 30.0)
    if abs(segment / gop - round(segment / gop)) > 1e-9:
        table.fail(
            f"{table.path('segment_seconds')}: must be a whole number of GOPs "
            f"({gop:g} s) so that every segment starts on a keyframe"
        )
    result = HlsRendition(
        name=name,
        rungs=tuple(rungs),
        segment_seconds=segment,
        gop_seconds=gop,
        preset=table.choice("preset", PRESETS, "veryfast"),
        audio_rate=table.integer("audio_rate", 48000, 8000, 96000),
        loudness=_loudness(table.table("loudness"), loudness),
        branding=_branding(table, site or _NO_SITE),
    )
    table.done()
    return result


def _labels(table: _Table) -> None:
    """Check a table's ``label`` (names per language, read by the pages: mam.profile_labels)."""
    table.used.add("label")
    if "label" in table.data:
        try:
            check_labels(table.data["label"], table.path("label"))
        except ValueError as exc:
            table.fail(str(exc))


def parse_profiles(
    data: Mapping[str, Any], source: str = "<profiles>", base: Path | None = None
) -> ProfileSet:
    """Build a ProfileSet from parsed TOML; raise ProfileError naming ``source`` and the key.

    A relative ``branding.logo`` is relative to ``base`` (the profiles file's directory).
    """

    def fail(message: str) -> None:
        raise ProfileError(f"{source}: {message}")

    top = _Table(data, "", fail)
    loudness = _loudness(top.table("loudness"), Loudness())
    site = _site_branding(top.table("branding"), base)
    profiles = top.table("profiles")
    renditions: list[Rendition] = []
    for name in profiles.data:
        if not NAME.match(name) or name in RESERVED:
            fail(
                f"profiles.{name}: a profile name is lower-case letters, digits, - and _ "
                f"(not {', '.join(RESERVED)})"
            )
        table = profiles.table(name)
        _labels(table)
        kind = table.choice("kind", ("mp4", "hls"))
        renditions.append(
            _mp4(name, table, loudness, site)
            if kind == "mp4"
            else _hls(name, table, loudness, site)
        )
    if PROXY not in {r.name for r in renditions}:
        fail(f"profiles.{PROXY}: missing (the review copy the web player shows)")
    if not isinstance(renditions[[r.name for r in renditions].index(PROXY)], Mp4Rendition):
        fail(f"profiles.{PROXY}.kind: the review copy must be an MP4")

    poster_t = top.table("poster")
    _labels(poster_t)
    poster = PosterSpec(
        max_height=poster_t.integer("max_height", 540, 16, MAX_HEIGHT),
        window_start=poster_t.number("window_start", 0.1, 0.0, 0.95),
        window_end=poster_t.number("window_end", 0.5, 0.05, 1.0),
        candidates=poster_t.integer("candidates", 50, 1, 500),
        min_entropy=poster_t.number("min_entropy", 0.25, 0.0, 1.0),
    )
    poster_t.done()
    if poster.window_end <= poster.window_start:
        fail("poster.window_end: must be after poster.window_start")
    thumbs_t = top.table("thumbnails")
    thumbnails = ThumbnailSpec(
        count=thumbs_t.integer("count", 10, 1, 100),
        max_height=thumbs_t.integer("max_height", 180, 16, MAX_HEIGHT),
    )
    thumbs_t.done()
    sprite_t = top.table("sprite")
    sprite = SpriteSpec(
        cell_width=sprite_t.integer("cell_width", 160, 16, 640),
        cell_height=sprite_t.integer("cell_height", 90, 16, 640),
        min_interval=sprite_t.number("min_interval", 1.0, 0.2, 600.0),
        max_cells=sprite_t.integer("max_cells", 400, 1, 5000),
        columns=sprite_t.integer("columns", 10, 1, 50),
        rows=sprite_t.integer("rows", 10, 1, 50),
    )
    sprite_t.done()
    qc_t = top.table("qc")
    qc = QcSpec(
        black_min_seconds=qc_t.number("black_min_seconds", 1.0, 0.04, 3600.0),
        black_pixel_threshold=qc_t.number("black_pixel_threshold", 0.10, 0.0, 1.0),
        black_picture_ratio=qc_t.number("black_picture_ratio", 0.98, 0.0, 1.0),
        silence_noise_db=qc_t.number("silence_noise_db", -60.0, -120.0, 0.0),
        silence_min_seconds=qc_t.number("silence_min_seconds", 2.0, 0.1, 3600.0),
        freeze_noise_db=qc_t.number("freeze_noise_db", -60.0, -120.0, 0.0),
        freeze_min_seconds=qc_t.number("freeze_min_seconds", 2.0, 0.1, 3600.0),
        loudness_tolerance=qc_t.number("loudness_tolerance", 1.0, 0.1, 10.0),
        analysis_height=qc_t.integer("analysis_height", 180, 32, 1080),
    )
    qc_t.done()
    top.done()
    return ProfileSet(tuple(renditions), poster, thumbnails, sprite, qc, source=source)


def load_profiles(path: Path | None = None) -> ProfileSet:
    """Read and check the profiles file at ``path`` (None: the shipped one)."""
    path = Path(path) if path else SHIPPED
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"{path}: profiles file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read the profiles file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    return parse_profiles(data, str(path), path.parent)


@functools.cache
def cached_profiles(path: Path | None) -> ProfileSet:
    """Return the profiles at ``path``, read once per process."""
    return load_profiles(path)
