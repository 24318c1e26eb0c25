"""Segment-parallel encoding of the distribution ladder (pure command builders).

A long source's video ladder is encoded in time ranges ("chunks"), each by its own
ffmpeg process (on any worker), with exactly the settings of the one-decode command;
the sound is encoded once for the whole film; the pieces are joined without
re-encoding.  The shape:

    plan_chunks   cut points on frames that start an HLS segment (a multiple of every
                  GOP and of the segment length), near multiples of the chunk length,
                  preferring a frame that is a keyframe of the source (``probe_keyframes``:
                  a first pass over the packets, nothing decoded), so a chunk's seek
                  decodes nothing it throws away;
    chunk_command one decode of ``[first_frame, first_frame + frames)``: the same picture
                  graph as ``commands._pictures`` (normalisation, one scale chain), every
                  MP4 profile and HLS rung as a video-only MP4; a keyframe every GOP from
                  the chunk's first frame, which is a multiple of the GOP, so the cadence
                  runs on across joins;
    audio_command the sound of every output (same downmix, alignment and two-pass
                  loudness normalisation with the film's pass-1 figures), one AAC file per
                  (profile or rung): no joins in the sound, so no clicks or gaps;
    join_*        the concat demuxer (``-c copy``) with each piece's exact duration; the
                  HLS ladder is segmented from the joined streams in one copying run, so
                  its segment numbers run on and every segment starts on a keyframe.

Only constant-rate sources take this path (``chunkable``): a source that needs ``fps=``
(VFR, odd rates) is encoded in one piece, because frame numbers of a seek would not be
the frame numbers of the normalised film.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg

from mam.probe import MediaInfo
from workers.ffmpeg.analysis import LoudnessMeasurement
from workers.ffmpeg.branding import BrandingInputs
from workers.ffmpeg.commands import (
    GLOBAL_ARGS,
    _branded,
    _hls_options,
    _mp4_options,
    _pictures,
    _sounds,
)
from workers.ffmpeg.normalise import constant_frame_rate, gop_frames
from workers.ffmpeg.plan import EncodePlan, PlannedHls
from workers.ffmpeg.specs import HlsRendition, Mp4Rendition

FFPROBE = "ffprobe"


@dataclass(frozen=True)
class Chunk:
    """Frames ``[first_frame, first_frame + frames)`` of the normalised film."""

    index: int
    first_frame: int
    frames: int

    def seconds(self, rate: Fraction) -> float:
        return float(self.frames / rate)

    def to_dict(self) -> dict[str, int]:
        return {"index": self.index, "first_frame": self.first_frame, "frames": self.frames}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        return cls(int(data["index"]), int(data["first_frame"]), int(data["frames"]))


def ladder_plan(plan: EncodePlan) -> EncodePlan:
    """Return ``plan`` with the renditions only (no stills, no analysis)."""
    return replace(
        plan,
        poster=None,
        poster_size=None,
        sprite=None,
        cell_size=None,
        sprite_interval=0.0,
        qc=None,
        analysis_size=None,
        thumb_size=None,
        thumb_frames=(),
    )


def align_frames(plan: EncodePlan) -> int:
    """Return the frame step every cut must be a multiple of: every GOP, every segment."""
    steps = [gop_frames(plan.rate, m.spec.gop_seconds) for m in plan.mp4]
    for h in plan.hls:
        steps.append(gop_frames(plan.rate, h.spec.gop_seconds))
        steps.append(gop_frames(plan.rate, h.spec.segment_seconds))
    return math.lcm(*steps) if steps else 1


def chunkable(info: MediaInfo) -> bool:
    """Return True when the source's frames are the film's frames (constant standard rate)."""
    video = info.primary_video
    return video is not None and constant_frame_rate(video) is None and video.rate is not None


def total_frames(info: MediaInfo, rate: Fraction) -> int:
    """Return the frames of the normalised film (the picture's duration at ``rate``)."""
    video = info.primary_video
    seconds = video.duration if video is not None and video.duration else info.duration
    return max(1, round(seconds * rate))


def plan_chunks(
    frames: int,
    rate: Fraction,
    chunk_seconds: float,
    step: int,
    keyframes: Sequence[int] = (),
) -> tuple[Chunk, ...]:
    """Cut ``frames`` into chunks of about ``chunk_seconds`` at multiples of ``step``.

    Each cut is the multiple of ``step`` nearest to the ideal one, or a source keyframe
    (also a multiple of ``step``) within a quarter chunk of it; a tail shorter than half a
    chunk joins the chunk before it.
    """
    size = max(step, round(chunk_seconds * rate / step) * step)
    keys = sorted({k for k in keyframes if k % step == 0})
    cuts = [0]
    while cuts[-1] + size < frames:
        ideal = cuts[-1] + size
        near = [k for k in keys if abs(k - ideal) <= size / 4 and cuts[-1] < k < frames]
        cuts.append(min(near, key=lambda k: (abs(k - ideal), k)) if near else ideal)
    if len(cuts) > 1 and frames - cuts[-1] < size / 2:
        cuts.pop()
    bounds = [*cuts, frames]
    return tuple(Chunk(i, a, b - a) for i, (a, b) in enumerate(itertools.pairwise(bounds)))


def keyframe_probe_command(source: str, video_index: int) -> list[str]:
    """Return the ffprobe argv listing the source's video packets (pts and flags)."""
    return [
        FFPROBE, "-v", "error", "-select_streams", str(video_index),
        "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", source,
    ]  # fmt: skip


def parse_keyframes(text: str, rate: Fraction, start_time: float = 0.0) -> list[int]:
    """Return the frame numbers (at ``rate``, from the first frame) of keyframe packets."""
    frames = []
    for line in text.splitlines():
        pts, _, flags = line.strip().partition(",")
        if "K" in flags and pts not in ("", "N/A"):
            frames.append(round((float(pts) - start_time) * rate))
    return sorted(set(frames))


def video_file(name: str) -> str:
    """Return the file a chunk writes for an MP4 profile or an HLS rung (``web/720p``)."""
    return "v_" + name.replace("/", "_") + ".mp4"


def video_outputs(plan: EncodePlan) -> list[str]:
    """Return the names of the video streams of the ladder: MP4 profiles, then HLS rungs."""
    names = [m.spec.name for m in plan.mp4]
    return names + [f"{h.spec.name}/{r.name}" for h in plan.hls for r in h.rungs]


def _rung_options(h: PlannedHls, i: int, gop: int, threads: int) -> dict[str, Any]:
    """Return the MP4 options of rung ``i`` with the ladder's own encoder settings."""
    full = _hls_options(h, "", gop, threads)
    options = {k: full[k] for k in ("c:v", "preset", "pix_fmt", "g", "keyint_min", "sc_threshold")}
    options.update({"b:v": full[f"b:v:{i}"], "profile:v": full[f"profile:v:{i}"]})
    for key in ("maxrate", "bufsize"):
        if f"{key}:v:{i}" in full:
            options[key] = full[f"{key}:v:{i}"]
    if threads:
        options["threads"] = threads
    return options


def chunk_command(
    source: str,
    info: MediaInfo,
    plan: EncodePlan,
    chunk: Chunk,
    outdir: str,
    threads: int = 0,
    branding: BrandingInputs | None = None,
) -> list[str]:
    """Return the argv encoding ``chunk``'s video ladder into ``outdir`` (video-only MP4s).

    ``branding``: the logo and burned-in captions of the branded profiles, as the one-decode
    command lays them; its subtitle files must be timed from the chunk's first frame
    (``branding.shift_vtt``). Slate and closing card are not made in chunks (a ladder whose
    profiles ask for them runs in one piece, ``workers.ladder.should_chunk``)."""
    ladder = ladder_plan(plan)
    video = info.primary_video
    assert video is not None  # noqa: S101 - chunkable() said so
    # Input seeking half a frame early: the demuxer starts at the keyframe before and
    # ffmpeg drops every frame before the position, so the first frame kept is the chunk's.
    seek = max(0.0, float((chunk.first_frame - Fraction(1, 2)) / plan.rate))
    source_input = (
        ffmpeg.input(source, ss=f"{seek:.6f}") if chunk.first_frame else ffmpeg.input(source)
    )
    legs = _pictures(source_input, info, ladder)
    _branded(ladder, legs, None, branding)
    out = Path(outdir)
    outputs = []
    for m in ladder.mp4:
        options = _mp4_options(m.spec, gop_frames(plan.rate, m.spec.gop_seconds), threads)
        options = {k: v for k, v in options.items() if not k.endswith(":a") and k != "ac"}
        options.pop("ar", None)
        options.pop("movflags", None)
        options["frames:v"] = chunk.frames
        outputs.append(
            ffmpeg.output(legs[f"mp4:{m.spec.name}"], str(out / video_file(m.spec.name)), **options)
        )
    for h in ladder.hls:
        gop = gop_frames(plan.rate, h.spec.gop_seconds)
        for i, rung in enumerate(h.rungs):
            options = _rung_options(h, i, gop, threads)
            options.update({"format": "mp4", "frames:v": chunk.frames})
            path = out / video_file(f"{h.spec.name}/{rung.name}")
            outputs.append(ffmpeg.output(legs[f"hls:{h.spec.name}:{i}"], str(path), **options))
    argv: list[str] = ffmpeg.merge_outputs(*outputs).compile()
    return [argv[0], *GLOBAL_ARGS, *argv[1:]]


def audio_file(name: str) -> str:
    return "a_" + name.replace("/", "_") + ".m4a"


def audio_command(
    source: str,
    info: MediaInfo,
    plan: EncodePlan,
    outdir: str,
    *,
    measured: LoudnessMeasurement | None,
) -> list[str]:
    """Return the argv encoding the whole film's sound once for every ladder output."""
    ladder = ladder_plan(plan)
    sounds = _sounds(ffmpeg.input(source), info, ladder, measured)
    out = Path(outdir)
    outputs = []
    for m in ladder.mp4:
        spec: Mp4Rendition = m.spec
        outputs.append(
            ffmpeg.output(
                sounds[spec.name], str(out / audio_file(spec.name)),
                **{"c:a": "aac", "ac": 2, "b:a": spec.audio_bitrate, "ar": spec.audio_rate,
                   "format": "mp4"},
            )
        )  # fmt: skip
    for h in ladder.hls:
        hspec: HlsRendition = h.spec
        for i, rung in enumerate(h.rungs):
            outputs.append(
                ffmpeg.output(
                    sounds[f"{hspec.name}:{i}"], str(out / audio_file(f"{hspec.name}/{rung.name}")),
                    **{"c:a": "aac", "ac": 2, "b:a": rung.spec.audio_bitrate,
                       "ar": hspec.audio_rate, "format": "mp4"},
                )
            )  # fmt: skip
    argv: list[str] = ffmpeg.merge_outputs(*outputs).compile()
    return [argv[0], *GLOBAL_ARGS, *argv[1:]]


def concat_list(pieces: Sequence[tuple[Path, float]]) -> str:
    """Return a concat demuxer script: each piece with its exact duration."""
    lines = ["ffconcat version 1.0"]
    for path, seconds in pieces:
        quoted = str(path).replace("'", "'\\''")
        lines += [f"file '{quoted}'", f"duration {seconds:.6f}"]
    return "\n".join(lines) + "\n"


def join_mp4_command(concat: Path, sound: Path, target: Path, *, faststart: bool) -> list[str]:
    """Return the argv joining a profile's video pieces with its sound (no re-encoding)."""
    argv = ["ffmpeg", *GLOBAL_ARGS, "-f", "concat", "-safe", "0", "-i", str(concat),
            "-i", str(sound), "-map", "0:v:0", "-map", "1:a:0", "-c", "copy"]  # fmt: skip
    if faststart:
        argv += ["-movflags", "+faststart"]
    return [*argv, "-f", "mp4", str(target)]


def join_hls_command(
    h: PlannedHls, concats: Sequence[Path], sounds: Sequence[Path], outdir: str, rate: Fraction
) -> list[str]:
    """Return the argv segmenting a whole HLS ladder from its joined pieces (``-c copy``)."""
    argv = ["ffmpeg", *GLOBAL_ARGS]
    for concat in concats:
        argv += ["-f", "concat", "-safe", "0", "-i", str(concat)]
    for sound in sounds:
        argv += ["-i", str(sound)]
    n = len(concats)
    for i in range(n):
        argv += ["-map", f"{i}:v:0", "-map", f"{n + i}:a:0"]
    full = _hls_options(h, outdir, gop_frames(rate, h.spec.gop_seconds), 0)
    argv += ["-c", "copy"]
    keep = ("format", "hls_time", "hls_playlist_type", "hls_list_size", "hls_segment_type",
            "hls_flags", "hls_segment_filename", "master_pl_name", "var_stream_map")  # fmt: skip
    for key in keep:
        argv += [f"-{key}", str(full[key])]
    return [*argv, str(Path(outdir) / h.spec.name / "%v" / "index.m3u8")]
