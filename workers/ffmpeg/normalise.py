"""Normalisation decided from the probe (pure functions, no ffmpeg is run here).

* rotation: ffmpeg's autorotate (on by default) turns the frames upright; output sizes
  are computed from the display size so they come out portrait;
* non-square pixels: scaled to square pixels keeping the display aspect, then
  ``setsar=1`` (720x576 at SAR 64:45 becomes 1024x576);
* interlaced: ``bwdif`` one frame per frame, field order from the probe; when the probe
  cannot tell, ``idet`` marks the frames it finds interlaced and only those are
  deinterlaced;
* never upscaled; both dimensions even;
* VFR or unusual rates (such as 78125/417): constant rate through ``fps=`` snapped to
  a standard rate;
* high dynamic range (HLG or PQ, as phones record by default): tone-mapped to SDR
  BT.709 (``zscale`` + ``tonemap``), because the 8-bit H.264 deliverables would
  otherwise carry HDR pictures that SDR televisions and browsers show washed out;
* audio: the first audio stream, down- or up-mixed to stereo 48 kHz (5.1 keeps its
  centre and surrounds at -3 dB, the LFE is dropped); sources without audio get a
  silent stereo track so every deliverable has sound.  A broadcast master whose first
  two audio streams are both mono (an MXF or MOV with CH1/CH2) is the stereo pair:
  CH1 left, CH2 right, instead of CH1 alone on both sides;
* start offsets: the picture sets the timeline.  Its first frame is the outputs' first
  frame, at 0 (never duplicated to fill a gap before it); the sound is placed relative
  to it as the source has it (``sound_lead``): sound before the first frame is left
  out, a late start is filled with silence (``aresample`` with ``first_pts=0``), and the
  sound is padded or cut to the picture's length.  MPEG program and system streams
  routinely start at 0.233 s with the sound a few frames before the picture.
"""

from __future__ import annotations

import math
from fractions import Fraction

from mam.probe import AudioStream, MediaInfo, VideoStream, parse_rate

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
SAMPLE_RATE = 48000
SILENCE = f"anullsrc=channel_layout=stereo:sample_rate={SAMPLE_RATE}"
STEREO = {"sample_rates": SAMPLE_RATE, "channel_layouts": "stereo"}
# Field order (display order) -> bwdif parity.  "tb"/"bt" are written inconsistently
# by muxers, so for them the decoder's per-frame flags decide ("auto").
PARITY = {"tt": "tff", "bb": "bff", "tb": "auto", "bt": "auto"}


def scaled_size(display_width: int, display_height: int, max_height: int) -> tuple[int, int]:
    """Return an even (width, height) no taller than max_height, never upscaled."""
    height = min(max_height, display_height)
    height = max(2, height - height % 2)
    width = max(2, 2 * round(display_width * height / display_height / 2))
    return width, height


def fit_within(
    display_width: int, display_height: int, max_width: int, max_height: int
) -> tuple[int, int]:
    """Return an even size inside max_width x max_height keeping the aspect, never upscaled."""
    width, height = scaled_size(display_width, display_height, max_height)
    if width > max_width:
        width = max(2, max_width - max_width % 2)
        height = max(2, 2 * round(display_height * width / display_width / 2))
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


# Transfer functions (ffprobe's names) of high-dynamic-range video.
HDR_TRANSFERS = frozenset({"smpte2084", "arib-std-b67"})
# HDR to SDR BT.709: linear light, BT.709 primaries, Hable's curve, back to limited-range
# 8-bit BT.709 (the widely used zimg chain; ``npl`` is the SDR reference white in nits).
TONE_MAP: tuple[tuple[str, dict[str, object]], ...] = (
    ("zscale", {"t": "linear", "npl": 100}),
    ("format", {"pix_fmts": "gbrpf32le"}),
    ("zscale", {"p": "bt709"}),
    ("tonemap", {"tonemap": "hable", "desat": 0}),
    ("zscale", {"t": "bt709", "m": "bt709", "r": "tv"}),
    ("format", {"pix_fmts": "yuv420p"}),
)


def tone_map_filters(video: VideoStream) -> tuple[tuple[str, dict[str, object]], ...]:
    """Return the filters that bring an HDR picture to SDR BT.709 (none for SDR)."""
    return TONE_MAP if video.color_transfer in HDR_TRANSFERS else ()


def stereo_pair(info: MediaInfo) -> tuple[AudioStream, AudioStream] | None:
    """Return the first two audio streams when they are a broadcast CH1/CH2 pair: both
    mono, at one sample rate, of about the same length (else None: the first stream is
    the sound)."""
    if len(info.audio) < 2:
        return None
    left, right = info.audio[0], info.audio[1]
    if (left.channels, right.channels) != (1, 1) or left.sample_rate != right.sample_rate:
        return None
    if left.duration and right.duration and abs(left.duration - right.duration) > 1.0:
        return None
    return left, right


# Two mono streams as one stereo sound: the first input's only channel left, the second's
# right (ffmpeg's join filter).
JOIN_PAIR = {"inputs": 2, "channel_layout": "stereo", "map": "0.0-FL|1.0-FR"}


def rate_text(rate: Fraction) -> str:
    """Return a rate as ffmpeg expects it (``25`` or ``30000/1001``)."""
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def picture_seconds(info: MediaInfo) -> float:
    """Return how long the picture lasts (the video stream's duration when known)."""
    video = info.primary_video
    return video.duration if video is not None and video.duration else info.duration


def sound_lead(info: MediaInfo) -> float:
    """Return how many seconds the sound starts before the picture (negative: after it).

    From the stream start times of the probe; 0 when either is unknown.
    """
    video, audio = info.primary_video, info.primary_audio
    if video is None or audio is None or video.start_time is None or audio.start_time is None:
        return 0.0
    return video.start_time - audio.start_time


def align_sound_filters(info: MediaInfo) -> list[tuple[str, dict[str, str]]]:
    """Return the audio filters that put the sound on the picture's timeline (see above)."""
    length = f"{picture_seconds(info):.6f}"
    return [
        ("asetpts", {"expr": f"PTS-STARTPTS{0.0 - sound_lead(info):+.6f}/TB"}),
        ("aresample", {"async": "1", "first_pts": "0"}),
        ("apad", {"whole_dur": length}),
        ("atrim", {"end": length}),
    ]
