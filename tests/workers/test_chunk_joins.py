"""Chunked ladder: cut points (literal tables) and correctness at the joins (real ffmpeg).

The source is 20 s of 320x180 at 25 fps whose every frame carries its own number as ten
black/white stripes (bit i = stripe i), with a 0.5 s beep every 6 s on silence.  The
ladder is encoded in chunks of 6 s (cuts at frames 150 and 300, the tail of 50 frames
joins the last chunk) and joined; the expectations come from the source's construction:
frame n shows number n, the beeps start at 0, 6, 12 and 18 s, the targets are the
profiles file's -23 and -16 LUFS.
"""

from __future__ import annotations

import json
import re
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from mam.probe import MediaInfo, probe
from tests.media import _ffmpeg
from workers import chunked
from workers.ffmpeg import analysis
from workers.ffmpeg.chunks import Chunk, align_frames, ladder_plan, parse_keyframes, plan_chunks
from workers.ffmpeg.hls import parse_master, parse_media
from workers.ffmpeg.plan import plan_encode
from workers.ffmpeg.runner import run_ffmpeg
from workers.profiles import cached_profiles

pytestmark = pytest.mark.slow
FRAMES, RATE = 500, 25
BEEPS = (0.0, 6.0, 12.0, 18.0)


# --- cut points (pure) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("frames", "chunk_seconds", "step", "keys", "expected"),
    [
        # 20 s at 25 fps, 6 s segments: cuts at 6 s and 12 s; a 2 s tail joins the last.
        (500, 6, 150, (), [(0, 150), (150, 150), (300, 200)]),
        # A tail of at least half a chunk is a chunk of its own.
        (600, 6, 150, (), [(0, 150), (150, 150), (300, 150), (450, 150)]),
        # 10 minutes, 3-minute chunks, 6 s steps: the last minute joins the third chunk.
        (15000, 180, 150, (), [(0, 4500), (4500, 4500), (9000, 6000)]),
        # A source keyframe on a step within a quarter chunk of the ideal cut wins ...
        (15000, 180, 150, (4650, 9150), [(0, 4650), (4650, 4500), (9150, 5850)]),
        # ... one off the steps (4660) or too far (3000) does not.
        (15000, 180, 150, (4660, 3000), [(0, 4500), (4500, 4500), (9000, 6000)]),
        # Shorter than a chunk: one piece.
        (100, 6, 150, (), [(0, 100)]),
    ],
)
def test_cut_points(
    frames: int, chunk_seconds: float, step: int, keys: tuple[int, ...], expected: list[Any]
) -> None:
    found = plan_chunks(frames, Fraction(RATE), chunk_seconds, step, keys)
    assert [(c.first_frame, c.frames) for c in found] == expected
    assert [c.index for c in found] == list(range(len(expected)))


def test_keyframes_are_read_from_packet_flags() -> None:
    listing = "0.000000,K_\n0.040000,__\n6.000000,K_\n6.040000,__\nN/A,K_\n"
    assert parse_keyframes(listing, Fraction(25)) == [0, 150]
    assert parse_keyframes("1.400000,K_\n7.400000,K_\n", Fraction(25), 1.4) == [0, 150]


# --- the joins (ffmpeg) ----------------------------------------------------------------


def _stripes_source(path: Path) -> Path:
    picture = (
        f"color=c=black:s=320x180:r={RATE}:d={FRAMES / RATE},format=gray,"
        "geq=lum='if(mod(floor(N/pow(2,floor(X/32))),2),235,16)',format=yuv420p"
    )
    sound = "sine=f=440:sample_rate=48000:d=20,volume='if(lt(mod(t,6),0.5),0.5,0)':eval=frame"
    _ffmpeg(
        "-f", "lavfi", "-i", picture, "-f", "lavfi", "-i", sound,
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-shortest", str(path),
    )  # fmt: skip
    return path


def frame_numbers(path: Path) -> list[int]:
    """Decode every frame and read its number back from the ten stripes."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-vf", "scale=10:1:flags=area,format=gray",
         "-f", "rawvideo", "-"],
        capture_output=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    return [
        sum(1 << bit for bit, v in enumerate(raw[i : i + 10]) if v > 128)
        for i in range(0, len(raw), 10)
    ]


def beep_onsets(path: Path) -> list[float]:
    """Return when each beep starts, seconds from the first video frame."""
    video_start = float(_probe_json(path, "v:0")["streams"][0].get("start_time") or 0)
    log = subprocess.run(
        ["ffmpeg", "-v", "info", "-copyts", "-i", str(path), "-map", "0:a:0",
         "-af", "silencedetect=n=-50dB:d=0.3", "-f", "null", "-"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stderr  # fmt: skip
    ends = [float(m) for m in re.findall(r"silence_end: (-?[0-9.]+)", log)]
    audio_start = float(_probe_json(path, "a:0")["streams"][0].get("start_time") or 0)
    onsets = [audio_start, *ends]  # the first beep starts the film
    return [round(t - video_start, 3) for t in onsets if t - audio_start < 19.5]


def _probe_json(path: Path, stream: str) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries",
         "stream=start_time", "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return dict(json.loads(out))


def integrated_loudness(path: Path) -> float:
    log = subprocess.run(
        ["ffmpeg", "-v", "info", "-i", str(path), "-map", "0:a:0", "-af", "ebur128",
         "-f", "null", "-"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stderr  # fmt: skip
    return float(re.findall(r"I:\s+(-?[0-9.]+) LUFS", log)[-1])


def first_packet_is_key(segment: Path) -> bool:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
         "-show_entries", "packet=flags", "-of", "csv=p=0", str(segment)],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return out.strip().startswith("K")


@pytest.fixture(scope="module")
def joined(media_dir: Path) -> tuple[Path, list[Chunk], MediaInfo]:
    folder = media_dir / "chunk-joins"
    folder.mkdir(exist_ok=True)
    source = _stripes_source(folder / "stripes.mp4")
    info = probe(source, display_name=source.name)
    profiles = cached_profiles(None)
    plan = ladder_plan(plan_encode(info, profiles.renditions))
    measured = analysis.parse_loudnorm(
        run_ffmpeg(
            analysis.build_audio_analysis_command(str(source), info, profiles.qc),
            duration=info.duration,
        ).log,
        analysis.MEASURE,
    )
    found = chunked.find_chunks(str(source), info, plan, 6)
    pieces = []
    for chunk in found:
        piece = folder / f"chunk{chunk.index}"
        chunked.encode_chunk(str(source), info, plan, chunk, piece)
        pieces.append((piece, chunk))
    chunked.encode_audio(str(source), info, plan, folder / "sound", measured=measured)
    out = folder / "out"
    for h in plan.hls:
        (out / h.spec.name).mkdir(parents=True, exist_ok=True)
    chunked.join(plan, pieces, folder / "sound", out)
    return out, list(found), info


def test_the_source_is_what_the_expectations_say(media_dir: Path) -> None:
    source = _stripes_source(media_dir / "stripes-check.mp4")
    assert frame_numbers(source) == list(range(FRAMES))
    assert beep_onsets(source) == pytest.approx(BEEPS, abs=0.025)


def test_the_film_was_cut_in_three_chunks_on_segment_starts(
    joined: tuple[Path, list[Chunk], MediaInfo],
) -> None:
    _, found, info = joined
    plan = ladder_plan(plan_encode(info, cached_profiles(None).renditions))
    assert align_frames(plan) == 150  # 2 s GOP and 6 s HLS segments at 25 fps
    assert [(c.first_frame, c.frames) for c in found] == [(0, 150), (150, 150), (300, 200)]


@pytest.mark.parametrize("output", ["broadcast.mp4", "playback.mp4", "mobile.mp4", "proxy.mp4"])
def test_every_frame_once_in_order_in_each_mp4(
    joined: tuple[Path, list[Chunk], MediaInfo], output: str
) -> None:
    out, _, _ = joined
    assert frame_numbers(out / output) == list(range(FRAMES))


def test_every_frame_once_in_order_in_the_hls_ladder(
    joined: tuple[Path, list[Chunk], MediaInfo],
) -> None:
    out, _, _ = joined
    variants = parse_master((out / "web" / "master.m3u8").read_text())
    assert [v.uri for v in variants] == ["180p/index.m3u8"]
    playlist = out / "web" / "180p" / "index.m3u8"
    segments = parse_media(playlist.read_text())
    # Numbering runs on across the joins; 6 s segments, the last one 2 s.
    assert [s.uri for s in segments] == [f"seg_{i:05d}.ts" for i in range(4)]
    assert [s.duration for s in segments] == pytest.approx([6, 6, 6, 2], abs=0.01)
    assert frame_numbers(playlist) == list(range(FRAMES))
    assert all(first_packet_is_key(out / "web" / "180p" / s.uri) for s in segments)


@pytest.mark.parametrize("output", ["broadcast.mp4", "mobile.mp4", "web/180p/index.m3u8"])
def test_sound_stays_in_sync_across_the_joins(
    joined: tuple[Path, list[Chunk], MediaInfo], output: str
) -> None:
    out, _, _ = joined
    assert beep_onsets(out / output) == pytest.approx(BEEPS, abs=0.025)


@pytest.mark.parametrize(
    ("output", "target"),
    [("broadcast.mp4", -23.0), ("playback.mp4", -23.0), ("web/180p/index.m3u8", -16.0)],
)
def test_loudness_of_the_whole_film_on_target(
    joined: tuple[Path, list[Chunk], MediaInfo], output: str, target: float
) -> None:
    out, _, _ = joined
    assert integrated_loudness(out / output) == pytest.approx(target, abs=0.5)


def test_keyframes_every_gop_across_the_joins(joined: tuple[Path, list[Chunk], MediaInfo]) -> None:
    out, _, _ = joined
    listing = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "packet=pts_time,flags", "-of", "csv=p=0", str(out / "broadcast.mp4")],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    assert parse_keyframes(listing, Fraction(RATE)) == list(range(0, FRAMES, 50))
