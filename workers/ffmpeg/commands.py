"""Pure builders for ffmpeg command lines (nothing here starts a process).

``build_process_command`` produces ONE ffmpeg invocation that decodes the source
once and fans the frames out (``split``/``asplit``) to every MP4 rendition and
the poster, normalising what ``mam.probe`` found:

* rotation: ffmpeg's autorotate (on by default) turns the frames upright; output
  sizes are computed from the display size so they come out portrait;
* non-square pixels: scaled to square pixels keeping the display aspect, then
  ``setsar=1`` (720x576 at SAR 64:45 becomes 1024x576);
* interlaced: ``bwdif`` one frame per frame (field order from the probe;
  ``unknown`` only deinterlaces frames flagged as interlaced);
* never upscaled; both dimensions even;
* VFR or unusual rates: constant rate through ``fps=`` snapped to a standard rate;
* H.264 yuv420p with fixed GOP (no scene-cut keyframes) and stereo AAC; sources
  without audio get a silent stereo track so every rendition has one.

Note: ffmpeg writes its first ``-progress`` block only once every output has
started, so with a poster progress reports begin after the poster window
(about ``at_fraction`` of the way through); encoding itself is not delayed.
A source that is both rotated and interlaced is deinterlaced after autorotation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path, PurePath
from typing import Any

import ffmpeg

from mam.errors import InvalidMedia
from mam.probe import MediaInfo, VideoStream, parse_rate

GLOBAL_ARGS = ("-hide_banner", "-nostats", "-loglevel", "error", "-progress", "pipe:1", "-y")
STANDARD_RATES: tuple[Fraction, ...] = (
    Fraction(24000, 1001),
    Fraction(24),
    Fraction(25),
    Fraction(30000, 1001),
    Fraction(30),
    Fraction(50),
    Fraction(60000, 1001),
    Fraction(60),
)
RATE_SNAP_TOLERANCE = 0.03
MAX_OUTPUT_RATE = 60
FALLBACK_RATE = Fraction(25)
SILENCE = "anullsrc=channel_layout=stereo:sample_rate=48000"
# Field order (display order) -> bwdif parity.  "tb"/"bt" are written inconsistently
# by muxers, so for them the decoder's per-frame flags decide ("auto").
PARITY = {"tt": "tff", "bb": "bff", "tb": "auto", "bt": "auto"}


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


@dataclass(frozen=True)
class PosterSpec:
    """A JPEG poster picked by ``thumbnail`` from a window of frames."""

    name: str = "poster.jpg"
    max_height: int = 540
    at_fraction: float = 0.1
    window_frames: int = 100


def output_paths(
    outdir: str, renditions: Sequence[Mp4Rendition], poster: PosterSpec | None
) -> dict[str, str]:
    """Map each rendition name (and the poster file name) to its output path."""
    paths = {r.name: str(Path(outdir) / f"{r.name}.mp4") for r in renditions}
    if poster is not None:
        paths[poster.name] = str(Path(outdir) / poster.name)
    return paths


def scaled_size(display_width: int, display_height: int, max_height: int) -> tuple[int, int]:
    """Return an even (width, height) no taller than max_height, never upscaled."""
    height = min(max_height, display_height)
    height = max(2, height - height % 2)
    width = max(2, 2 * round(display_width * height / display_height / 2))
    return width, height


def snap_frame_rate(rate: Fraction) -> Fraction:
    """Return the nearest standard rate within 3 %, else the rate rounded and capped."""
    nearest = min(STANDARD_RATES, key=lambda std: abs(std - rate))
    if abs(nearest - rate) / nearest <= RATE_SNAP_TOLERANCE:
        return nearest
    return Fraction(max(1, min(MAX_OUTPUT_RATE, math.floor(rate + Fraction(1, 2)))))


def constant_frame_rate(video: VideoStream) -> Fraction | None:
    """Return the rate to force with ``fps=``, or None when the source rate is fine."""
    nominal = parse_rate(video.frame_rate)
    average = parse_rate(video.avg_frame_rate)
    if nominal in STANDARD_RATES and not video.is_vfr:
        return None
    base = (average if video.is_vfr else nominal) or average or nominal or FALLBACK_RATE
    return snap_frame_rate(base)


def output_frame_rate(video: VideoStream) -> Fraction:
    """Return the frame rate the renditions will have."""
    return constant_frame_rate(video) or video.rate or FALLBACK_RATE


def gop_frames(rate: Fraction, gop_seconds: float) -> int:
    """Return the keyframe interval in frames for a GOP duration."""
    return max(1, round(float(rate) * gop_seconds))


def deinterlace_filter(video: VideoStream) -> dict[str, str] | None:
    """Return bwdif options for this stream, or None for progressive video."""
    if video.is_interlaced:
        return {"mode": "send_frame", "parity": PARITY[video.field_order], "deint": "all"}
    if video.field_order == "unknown":
        return {"mode": "send_frame", "parity": "auto", "deint": "interlaced"}
    return None


def _rate_text(rate: Fraction) -> str:
    """Return a rate as ffmpeg expects it (``25`` or ``30000/1001``)."""
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def _branches(stream: Any, count: int, splitter: str) -> list[Any]:
    """Return ``count`` copies of a stream (through split/asplit when more than one)."""
    if count == 1:
        return [stream]
    node = stream.split() if splitter == "split" else stream.asplit()
    return [node[i] for i in range(count)]


def _rendition_options(r: Mp4Rendition, gop: int, threads: int) -> dict[str, Any]:
    """Return the ffmpeg output options of one MP4 rendition."""
    options: dict[str, Any] = {
        "format": "mp4",
        "c:v": "libx264",
        "preset": r.preset,
        "profile:v": r.h264_profile,
        "pix_fmt": "yuv420p",
        "g": gop,
        "keyint_min": gop,
        "sc_threshold": 0,
        "c:a": "aac",
        "b:a": r.audio_bitrate,
        "ac": 2,
        "ar": r.audio_rate,
        "movflags": "+faststart",
        "max_muxing_queue_size": 1024,
    }
    if r.crf is not None:
        options["crf"] = r.crf
    else:
        options["b:v"] = r.video_bitrate
    if r.maxrate:
        options["maxrate"] = r.maxrate
    if r.bufsize:
        options["bufsize"] = r.bufsize
    if threads:
        options["threads"] = threads
    return options


def _poster_window(info: MediaInfo, poster: PosterSpec, rate: Fraction) -> tuple[float, float]:
    """Return (start, length) in seconds of the frames the poster is picked from."""
    length = poster.window_frames / float(rate)
    start = min(poster.at_fraction * info.duration, max(0.0, info.duration - length))
    return max(0.0, start), length + 1.0 / float(rate)


def build_process_command(
    source: str,
    info: MediaInfo,
    outdir: str,
    renditions: Sequence[Mp4Rendition],
    poster: PosterSpec | None,
    *,
    threads: int = 0,
) -> list[str]:
    """Return the argv of one ffmpeg run writing every rendition and the poster."""
    video = info.primary_video
    if video is None:
        raise InvalidMedia(f"{PurePath(source).name} has no video stream to transcode")
    if not renditions and poster is None:
        raise ValueError("nothing to produce: no renditions and no poster")
    names = [r.name for r in renditions]
    if len(set(names)) != len(names):
        raise ValueError(f"rendition names must be unique: {names}")
    paths = output_paths(outdir, renditions, poster)

    source_input = ffmpeg.input(source)
    picture = source_input[str(video.index)]
    deinterlace = deinterlace_filter(video)
    if deinterlace:
        picture = picture.filter("bwdif", **deinterlace)
    forced_rate = constant_frame_rate(video)
    if forced_rate is not None:
        picture = picture.filter("fps", fps=_rate_text(forced_rate))
    rate = forced_rate or video.rate or FALLBACK_RATE
    pictures = _branches(picture, len(renditions) + (poster is not None), "split")

    outputs = []
    if renditions:
        audio = info.primary_audio
        if audio is not None:
            sound = source_input[str(audio.index)]
        else:
            silence = ffmpeg.input(SILENCE, format="lavfi", t=f"{info.duration:.3f}")
            sound = silence["a"]
        sounds = _branches(sound, len(renditions), "asplit")
        for r, leg, sound_leg in zip(renditions, pictures, sounds, strict=False):
            width, height = scaled_size(video.display_width, video.display_height, r.max_height)
            scaled = leg.filter("scale", width, height).filter("setsar", "1")
            options = _rendition_options(r, gop_frames(rate, r.gop_seconds), threads)
            outputs.append(ffmpeg.output(scaled, sound_leg, paths[r.name], **options))

    if poster is not None:
        start, length = _poster_window(info, poster, rate)
        width, height = scaled_size(video.display_width, video.display_height, poster.max_height)
        still = (
            pictures[-1]
            .filter("trim", start=f"{start:.3f}", duration=f"{length:.3f}")
            .filter("scale", width, height)
            .filter("setsar", "1")
            .filter("thumbnail", n=poster.window_frames)
        )
        options = {"format": "image2", "update": 1, "frames:v": 1, "c:v": "mjpeg", "q:v": 3}
        outputs.append(ffmpeg.output(still, paths[poster.name], **options))

    argv: list[str] = ffmpeg.merge_outputs(*outputs).compile()
    return [argv[0], *GLOBAL_ARGS, *argv[1:]]
