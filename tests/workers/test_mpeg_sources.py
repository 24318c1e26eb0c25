"""Real-world MPEG program and system streams must not fail QC (issue #10, item 1).

Both kinds start their streams at about 0.233 s (the muxer's delay), the sound a few
frames before the picture, and the DVD menu's sound ends before its picture.  Players
play them fine; the pipeline must make outputs that start on the source's first frame,
keep sound and picture together, and pass QC.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mam.models import Version, VersionState
from mam.probe import probe
from mam.runtime import Runtime
from tests import media
from tests.workers.test_pipeline import fetch, ingest, run

pytestmark = pytest.mark.slow
AAC_FRAME = 1024 / 48000


@pytest.fixture(scope="module")
def mpeg(media_dir: Path) -> Callable[[str], Path]:
    folder = media_dir / "mpeg"
    folder.mkdir(exist_ok=True)
    makers: dict[str, Callable[[Path], Path]] = {
        "menu.vob": media.make_dvd_menu_ps,
        "late-sound.vob": lambda p: media.make_dvd_menu_ps(p, video_delay=-0.2),
        "vcd.mpg": media.make_mpeg1_system,
    }
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = makers[name](folder / name)
        return made[name]

    return get


def tiny_frames(path: Path, count: int) -> list[bytes]:
    """Return the first ``count`` pictures of a file as 32x24 grey thumbnails."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v:0", "-frames:v", str(count),
         "-vf", "scale=32:24,format=gray", "-f", "rawvideo", "-"],
        capture_output=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return [raw[i : i + 768] for i in range(0, len(raw), 768)]


def difference(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def stream_spans(path: Path) -> dict[str, tuple[float, float]]:
    """Return (start, duration) of the first video and audio stream."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,start_time,duration",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    spans: dict[str, tuple[float, float]] = {}
    for s in json.loads(out)["streams"]:
        spans.setdefault(s["codec_type"], (float(s["start_time"]), float(s["duration"])))
    return spans


def count_frames(path: Path) -> int:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
         "stream=nb_read_frames", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    return int(out.strip().split(",")[0])


@pytest.mark.parametrize("name", ["menu.vob", "late-sound.vob", "vcd.mpg"])
def test_mpeg_streams_starting_late_become_ready_in_sync(
    runtime: Runtime, session: Session, mpeg: Callable[[str], Path], tmp_path: Path, name: str
) -> None:
    source = mpeg(name)
    info = probe(source)
    assert info.container == "mpeg" and info.primary_video and info.primary_audio
    assert info.primary_video.start_time and info.primary_video.start_time > 0.233
    vid = ingest(runtime, session, source)
    run(runtime, session, vid)
    session.expire_all()
    v = session.get_one(Version, vid)
    assert v.state == VersionState.READY, v.failure_reason
    qc = v.qc_report  # type: ignore[attr-defined]
    assert qc.verdict.value in ("pass", "warn")
    assert not [f for f in qc.findings if f["severity"] == "error"], qc.findings
    frame = 1 / info.primary_video.fps
    first = tiny_frames(source, 4)
    frames = count_frames(source)
    for profile in ("broadcast", "proxy", "web"):
        key = v.rendition(profile).storage_key  # type: ignore[union-attr]
        if profile == "web":  # the first segment of the smallest rung
            rung = v.rendition("web").media_info["rungs"][-1]["name"]  # type: ignore[union-attr]
            key = key.replace("master.m3u8", f"{rung}/seg_00000.ts")
        out = fetch(runtime, key, tmp_path / f"{profile}-{key.rsplit('/', 1)[-1]}")
        # The first output picture is the source's first picture, the second its second.
        got = tiny_frames(out, 2)
        for i, picture in enumerate(got):
            nearest = min(range(len(first)), key=lambda k: difference(picture, first[k]))
            assert nearest == i, f"{profile}: output frame {i} looks like source frame {nearest}"
        spans = stream_spans(out)
        (v_start, v_len), (a_start, a_len) = spans["video"], spans["audio"]
        assert abs(a_start - v_start) <= AAC_FRAME + 0.001, (profile, spans)
        if profile != "web":
            assert count_frames(out) == frames, profile
            assert v_len == pytest.approx(frames * frame, abs=0.002)
            # Sound and picture last as long as each other (within a frame and a packet).
            assert abs(a_len - v_len) <= frame + AAC_FRAME, (profile, spans)
