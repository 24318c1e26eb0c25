"""Read what a media file contains by running ``ffprobe`` (never through a shell).

Rotation convention: ``VideoStream.rotation`` is the rotation, in degrees
*clockwise*, that a player must apply to the decoded frames to show them
upright (0, 90, 180 or 270).  ffprobe reports the display matrix angle
counter-clockwise, so its ``rotation=-90`` is stored here as ``90``; the legacy
``rotate`` stream tag is already clockwise and is stored as is.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from dataclasses import asdict, dataclass, fields
from fractions import Fraction
from pathlib import Path
from typing import Any

from mam.errors import InvalidMedia
from mam.messages import media

FFPROBE = "ffprobe"
INTERLACED_FIELD_ORDERS = frozenset({"tt", "bb", "tb", "bt"})
KNOWN_FIELD_ORDERS = INTERLACED_FIELD_ORDERS | {"progressive"}
VFR_TOLERANCE = 0.03  # relative difference between r_frame_rate and avg_frame_rate


def parse_rate(value: str | None) -> Fraction | None:
    """Return a positive rate such as ``"30000/1001"`` as a Fraction, or None."""
    if not value:
        return None
    try:
        num, _, den = value.partition("/")
        rate = Fraction(int(num), int(den or "1"))
    except (ValueError, ZeroDivisionError):
        return None
    return rate if rate > 0 else None


def _ratio(value: str | None) -> tuple[int, int] | None:
    """Return an ``"a:b"`` aspect ratio with both terms positive, or None."""
    if not value or ":" not in value:
        return None
    a, _, b = value.partition(":")
    try:
        num, den = int(a), int(b)
    except ValueError:
        return None
    return (num, den) if num > 0 and den > 0 else None


@dataclass(frozen=True)
class VideoStream:
    """One video stream (cover art and data streams are never listed)."""

    index: int
    codec: str
    profile: str | None
    width: int
    height: int
    sar: str
    dar: str
    frame_rate: str
    avg_frame_rate: str
    field_order: str
    rotation: int
    pix_fmt: str | None
    bit_rate: int | None
    frames: int | None
    duration: float | None = None  # of this stream (None when the container does not say)
    start_time: float | None = None  # presentation time of its first frame, if known
    # The transfer function as ffprobe names it: smpte2084 (PQ) and arib-std-b67 (HLG)
    # are high dynamic range (a phone's HDR video); None when the file does not say.
    color_transfer: str | None = None

    @property
    def _square_size(self) -> tuple[int, int]:
        """Return the size in square pixels before rotation."""
        num, den = _ratio(self.sar) or (1, 1)
        return max(1, round(self.width * num / den)), self.height

    @property
    def display_width(self) -> int:
        """Return the width shown to viewers (square pixels, rotation applied)."""
        w, h = self._square_size
        return h if self.rotation in (90, 270) else w

    @property
    def display_height(self) -> int:
        """Return the height shown to viewers (square pixels, rotation applied)."""
        w, h = self._square_size
        return w if self.rotation in (90, 270) else h

    @property
    def rate(self) -> Fraction | None:
        """Return the nominal frame rate, falling back to the average one."""
        return parse_rate(self.frame_rate) or parse_rate(self.avg_frame_rate)

    @property
    def fps(self) -> float:
        """Return the frame rate as a float (0.0 when unknown)."""
        rate = self.rate
        return float(rate) if rate else 0.0

    @property
    def is_interlaced(self) -> bool:
        """Return True when the stream is flagged as interlaced."""
        return self.field_order in INTERLACED_FIELD_ORDERS

    @property
    def is_vfr(self) -> bool:
        """Return True when the nominal and average frame rates differ notably."""
        r, avg = parse_rate(self.frame_rate), parse_rate(self.avg_frame_rate)
        if r is None or avg is None:
            return False
        return abs(r - avg) / max(r, avg) > VFR_TOLERANCE


@dataclass(frozen=True)
class AudioStream:
    """One audio stream."""

    index: int
    codec: str
    channels: int
    channel_layout: str | None
    sample_rate: int
    bit_rate: int | None
    duration: float | None = None
    start_time: float | None = None


@dataclass(frozen=True)
class MediaInfo:
    """What ffprobe found in a file, reduced to what transcoding decisions need."""

    container: str
    format_long_name: str
    duration: float
    size: int | None
    bit_rate: int | None
    video: tuple[VideoStream, ...]
    audio: tuple[AudioStream, ...]
    subtitles: int

    @property
    def primary_video(self) -> VideoStream | None:
        """Return the first video stream, if any."""
        return self.video[0] if self.video else None

    @property
    def primary_audio(self) -> AudioStream | None:
        """Return the first audio stream, if any."""
        return self.audio[0] if self.audio else None

    @property
    def has_video(self) -> bool:
        """Return True when there is at least one video stream."""
        return bool(self.video)

    @property
    def has_audio(self) -> bool:
        """Return True when there is at least one audio stream."""
        return bool(self.audio)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict that ``from_dict`` turns back into an equal object."""
        data = asdict(self)
        data["video"] = [dict(v) for v in data["video"]]
        data["audio"] = [dict(a) for a in data["audio"]]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaInfo:
        """Rebuild a MediaInfo from ``to_dict`` output (e.g. after a JSON round trip)."""
        return cls(
            container=str(data["container"]),
            format_long_name=str(data["format_long_name"]),
            duration=float(data["duration"]),
            size=_opt_int(data.get("size")),
            bit_rate=_opt_int(data.get("bit_rate")),
            video=tuple(VideoStream(**_known(VideoStream, v)) for v in data.get("video", ())),
            audio=tuple(AudioStream(**_known(AudioStream, a)) for a in data.get("audio", ())),
            subtitles=int(data.get("subtitles", 0)),
        )


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """Return the items of ``data`` that are fields of ``cls`` (newer keys are dropped)."""
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


def _opt_int(value: object) -> int | None:
    """Return an int for numeric values and numeric strings, None for N/A and junk."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(float(str(value)))
    except ValueError:
        return None


def _opt_float(value: object) -> float | None:
    """Return a finite float for numeric values, None otherwise."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _rotation(stream: dict[str, Any]) -> int:
    """Return the clockwise display rotation (0/90/180/270) of an ffprobe stream."""
    degrees: float | None = None
    for side in stream.get("side_data_list") or ():
        if side.get("side_data_type") == "Display Matrix" and "rotation" in side:
            angle = _opt_float(side.get("rotation"))
            if angle is not None:
                degrees = -angle  # ffprobe reports counter-clockwise degrees
            break
    if degrees is None:
        degrees = _opt_float((stream.get("tags") or {}).get("rotate"))  # legacy, clockwise
    if degrees is None:
        return 0
    return (round(degrees / 90) * 90) % 360


def _video_stream(stream: dict[str, Any]) -> VideoStream:
    """Build a VideoStream from one ffprobe stream dict."""
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    sar = _ratio(stream.get("sample_aspect_ratio")) or (1, 1)
    dar = _ratio(stream.get("display_aspect_ratio"))
    if dar is None and width and height:
        ratio = Fraction(width * sar[0], height * sar[1])
        dar = (ratio.numerator, ratio.denominator)
    field_order = str(stream.get("field_order") or "unknown")
    profile = stream.get("profile")
    return VideoStream(
        index=int(stream["index"]),
        codec=str(stream.get("codec_name") or "unknown"),
        profile=str(profile) if profile not in (None, "", "unknown") else None,
        width=width,
        height=height,
        sar=f"{sar[0]}:{sar[1]}",
        dar=f"{dar[0]}:{dar[1]}" if dar else "0:1",
        frame_rate=str(stream.get("r_frame_rate") or "0/0"),
        avg_frame_rate=str(stream.get("avg_frame_rate") or "0/0"),
        field_order=field_order if field_order in KNOWN_FIELD_ORDERS else "unknown",
        rotation=_rotation(stream),
        pix_fmt=stream.get("pix_fmt") or None,
        bit_rate=_opt_int(stream.get("bit_rate")),
        frames=_opt_int(stream.get("nb_frames")),
        duration=_opt_float(stream.get("duration")),
        start_time=_opt_float(stream.get("start_time")),
        color_transfer=stream.get("color_transfer") or None,
    )


def _audio_stream(stream: dict[str, Any]) -> AudioStream:
    """Build an AudioStream from one ffprobe stream dict."""
    return AudioStream(
        index=int(stream["index"]),
        codec=str(stream.get("codec_name") or "unknown"),
        channels=int(stream.get("channels") or 0),
        channel_layout=stream.get("channel_layout") or None,
        sample_rate=_opt_int(stream.get("sample_rate")) or 0,
        bit_rate=_opt_int(stream.get("bit_rate")),
        duration=_opt_float(stream.get("duration")),
        start_time=_opt_float(stream.get("start_time")),
    )


def parse_ffprobe_json(data: dict[str, Any], name: str) -> MediaInfo:
    """Turn ffprobe's JSON (``-show_format -show_streams``) into a MediaInfo."""
    fmt = data.get("format") or {}
    streams = data.get("streams") or []
    video: list[VideoStream] = []
    audio: list[AudioStream] = []
    subtitles = 0
    durations: list[float] = []
    for stream in streams:
        kind = stream.get("codec_type")
        if kind == "video" and not (stream.get("disposition") or {}).get("attached_pic"):
            video.append(_video_stream(stream))
        elif kind == "audio":
            audio.append(_audio_stream(stream))
        elif kind == "subtitle":
            subtitles += 1
            continue
        else:
            continue
        stream_duration = _opt_float(stream.get("duration"))
        if stream_duration:
            durations.append(stream_duration)
    if not video and not audio:
        raise InvalidMedia(media.NO_STREAMS, params={"file": name}, file=name)
    duration = _opt_float(fmt.get("duration")) or max(durations, default=0.0)
    if duration <= 0 and video:
        raise InvalidMedia(media.NO_DURATION, params={"file": name}, file=name)
    return MediaInfo(
        container=str(fmt.get("format_name") or "unknown"),
        format_long_name=str(fmt.get("format_long_name") or ""),
        duration=max(duration, 0.0),
        size=_opt_int(fmt.get("size")),
        bit_rate=_opt_int(fmt.get("bit_rate")),
        video=tuple(video),
        audio=tuple(audio),
        subtitles=subtitles,
    )


def _ffprobe_reason(stderr: str, path: str) -> str:
    """Return ffprobe's error lines without log prefixes and the file path."""
    reasons: list[str] = []
    for raw in stderr.splitlines():
        line = raw.strip()
        if line.startswith("[") and "] " in line:
            line = line.split("] ", 1)[1]  # "[mov,mp4,... @ 0x55d0] moov atom not found"
        if line.startswith(f"{path}: "):
            line = line[len(path) + 2 :]
        if line and line not in reasons:
            reasons.append(line)
    return "; ".join(reasons[-3:]) or "ffprobe failed without an error message"


def probe(
    path: str | os.PathLike[str], *, timeout: float = 60, display_name: str | None = None
) -> MediaInfo:
    """Probe a local media file; raise InvalidMedia naming the file when it is unusable."""
    local = Path(path).absolute()  # absolute: never parsed as an option or a protocol
    target = str(local)
    name = display_name or local.name
    try:
        st = local.stat()
    except FileNotFoundError:
        raise InvalidMedia(media.MISSING, params={"file": name}, file=name) from None
    if st.st_size == 0:
        raise InvalidMedia(media.EMPTY, params={"file": name}, file=name)
    return _ffprobe([target], target, name, timeout)


def probe_url(url: str, *, display_name: str, timeout: float = 60) -> MediaInfo:
    """Probe media behind an http(s) URL (a presigned object-store link), reading by range."""
    if not url.startswith(("http://", "https://")):
        raise ValueError("probe_url takes an http(s) URL")
    args = ["-protocol_whitelist", "http,https,tcp,tls,crypto", url]
    return _ffprobe(args, url, display_name, timeout)


def _ffprobe(args: list[str], target: str, name: str, timeout: float) -> MediaInfo:
    argv = [FFPROBE, "-v", "error", "-print_format", "json", "-show_format", "-show_streams"]
    try:
        result = subprocess.run(
            [*argv, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise InvalidMedia(media.PROBE_MISSING, params={"file": name}, file=name) from None
    except subprocess.TimeoutExpired:
        raise InvalidMedia(
            media.PROBE_TIMEOUT, params={"file": name, "seconds": f"{timeout:g}"}, file=name
        ) from None
    stderr = result.stderr.decode("utf-8", "replace")
    if result.returncode != 0:
        reason = _ffprobe_reason(stderr, target)
        raise InvalidMedia(media.UNREADABLE, params={"file": name}, detail=reason, file=name)
    try:
        data = json.loads(result.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError:
        reason = "ffprobe returned bad JSON"
        raise InvalidMedia(
            media.UNREADABLE, params={"file": name}, detail=reason, file=name
        ) from None
    return parse_ffprobe_json(data, name)
