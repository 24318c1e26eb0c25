"""The segment-parallel ladder keeps the branding: each chunk gets the logo and the burned-in
captions, re-timed from its own first frame, on a short generated film cut small
(MAM_CHUNK_MIN_SECONDS / MAM_CHUNK_SECONDS); the pieces are joined as the join task does.
A ladder whose profiles add a slate or closing card runs in one piece."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mam.models import Version
from mam.probe import MediaInfo, probe
from mam.runtime import Runtime
from mam.services.ingest import IngestService
from mam.services.processing import ProcessingPlan, slate_lines, subtitle_keys
from mam.services.subtitles import SubtitleService
from tests.conftest import make_settings
from workers import chunked, ladder
from workers.ffmpeg.branding import shift_vtt
from workers.pipeline import branding_inputs

W, H = 320, 180
PROFILES = """
[branding]
logo = "logo.png"
position = "top-left"
margin = 0.05
scale = 0.2
opacity = 1.0
closing_text = "版权所有"

[profiles.broadcast]
kind = "mp4"
max_height = 180
video_bitrate = "1500k"
audio_bitrate = "96k"
gop_seconds = 2.0
branding = { logo = true, captions = "zh" }

[profiles.proxy]
kind = "mp4"
max_height = 180
video_bitrate = "500k"
audio_bitrate = "96k"
"""
# One cue in each chunk (cuts at 4 s and 8 s) and one across the first cut.
VTT = """WEBVTT

00:00:01.000 --> 00:00:02.000
第一段的字幕

00:00:03.500 --> 00:00:04.600
跨过切点的字幕

00:00:05.000 --> 00:00:06.000
第二段的字幕

00:00:09.000 --> 00:00:10.000
第三段的字幕
"""


def _ffmpeg(*args: str) -> None:
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    subprocess.run(argv, check=True, capture_output=True, timeout=120)


def frame(path: Path, seconds: float) -> bytes:
    argv = ["ffmpeg", "-v", "error", "-ss", f"{seconds}", "-i", str(path), "-frames:v", "1",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]  # fmt: skip
    return subprocess.run(argv, check=True, capture_output=True, timeout=60).stdout


def light(data: bytes) -> int:
    """Count the light pixels of the lower half (burned-in captions are white)."""
    pixels = ((x, y) for y in range(H // 2, H) for x in range(W))
    return sum(1 for x, y in pixels if min(data[(y * W + x) * 3 :][:3]) > 150)


def test_shift_vtt_times_cues_from_the_chunk_start() -> None:
    shifted = shift_vtt(VTT, 4.0, 4.0)
    assert shifted.strip().split("\n\n")[1:] == [
        "00:00:00.000 --> 00:00:00.600\n跨过切点的字幕",
        "00:00:01.000 --> 00:00:02.000\n第二段的字幕",
    ]
    assert "第三段" not in shifted and "第一段" not in shifted
    assert "00:00:03.500 --> 00:00:04.000\n跨过切点的字幕" in shift_vtt(VTT, 0.0, 4.0)


@pytest.mark.slow
def test_a_chunked_ladder_keeps_logo_and_captions(
    runtime: Runtime, session: Session, tmp_path: Path
) -> None:
    film, logo = tmp_path / "film.mp4", tmp_path / "logo.png"
    _ffmpeg("-f", "lavfi", "-i", f"color=c=0x404040:s={W}x{H}:r=25:d=12",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=12",
            "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", str(film))  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=64x32,format=rgba", "-frames:v", "1", str(logo))
    (tmp_path / "profiles.toml").write_text(PROFILES, encoding="utf-8")
    settings = make_settings(
        tmp_path / "home", profiles=tmp_path / "profiles.toml", proxy_first=True,
        chunk_min_seconds=8, chunk_seconds=4,
    )  # fmt: skip
    version = IngestService(session, runtime.storage).ingest_file(
        film, programme="时代风采", title="第3集"
    ).version
    SubtitleService(session, runtime.storage).attach(version.episode, VTT.encode(), "字幕.vtt",
                                                     "zh", None)  # fmt: skip
    session.commit()
    version = session.get_one(Version, version.id)
    info = version.asset.media_info
    plan = ProcessingPlan(
        0, version.id, 1, version.asset.storage_key, "film.mp4",
        MediaInfo.from_dict(info), subtitle_keys=subtitle_keys(session, version),
        slate_lines=slate_lines(version),
    )  # fmt: skip
    assert not ladder.has_cards(plan, settings)
    assert ladder.should_chunk(plan.media_info, settings)
    source = str(film)
    found, _ = ladder.prepare_chunks(plan, source, settings)
    assert [(c.first_frame, c.frames) for c in found] == [(0, 100), (100, 100), (200, 100)]
    encode = ladder.ladder_plan_for(plan.media_info, settings)
    work, out = tmp_path / "pieces", tmp_path / "out"
    work.mkdir()
    branding = branding_inputs(plan, runtime.storage, encode, work)  # as each chunk task does
    for chunk in found:
        chunked.encode_chunk(source, plan.media_info, encode, chunk, work / f"chunk{chunk.index}",
                             branding=branding)  # fmt: skip
    measured = ladder.measure(source, plan.media_info, settings)
    chunked.encode_audio(source, plan.media_info, encode, work / "sound", measured=measured)
    ladder.join_pieces(work, encode, list(found), out)
    ladder.check_outputs(out, encode, plan.media_info, version.id, settings)  # QC passes
    (broadcast,) = [out / m.file for m in encode.mp4 if m.spec.name == "broadcast"]

    expected = [(0.5, False), (1.5, True), (3.0, False), (3.8, True), (4.3, True), (4.8, False),
                (5.2, True), (5.5, True), (5.8, True), (7.5, False), (9.5, True), (11.0, False)]
    for seconds, shown in expected:  # seconds of the film, is a cue on screen
        picture = frame(broadcast, seconds)
        lit = light(picture)
        assert (lit > 10) if shown else (lit == 0), (seconds, lit)
        r, g, b = picture[(26 * W + 40) * 3 :][:3]  # the logo, 36 px tall, 9 px in
        assert b > 200 and r < 40 and g < 40, (seconds, (r, g, b))


def test_a_ladder_with_cards_runs_in_one_piece(tmp_path: Path) -> None:
    film = tmp_path / "film.mp4"
    _ffmpeg("-f", "lavfi", "-i", f"color=c=0x404040:s={W}x{H}:r=25:d=12", "-c:v", "libx264",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(film))  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=64x32,format=rgba", "-frames:v", "1",
            str(tmp_path / "logo.png"))  # fmt: skip
    text = PROFILES.replace('captions = "zh" }', 'captions = "zh", closing = true }')
    (tmp_path / "profiles.toml").write_text(text, encoding="utf-8")
    settings = make_settings(
        tmp_path / "home", profiles=tmp_path / "profiles.toml", chunk_min_seconds=8,
        chunk_seconds=4,
    )  # fmt: skip
    info = probe(film)
    plan = ProcessingPlan(0, 1, 1, "k", "film.mp4", info, slate_lines=("时代风采",))
    assert ladder.should_chunk(info, settings)  # long enough, constant rate
    assert ladder.has_cards(plan, settings)
    assert not ladder.should_chunk(info, settings, cards=True)
