"""Open captions and the station logo through the real pipeline: ingest, attach the
episode's Chinese subtitles, process with a profiles file that asks for them, and sample
the published renditions' pixels."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mam.models import Version
from mam.runtime import Runtime
from mam.services.ingest import IngestService
from mam.services.processing import ProcessingService
from mam.services.subtitles import SubtitleService
from workers.pipeline import process_source
from workers.profiles import load_profiles

pytestmark = pytest.mark.slow
W, H = 320, 180

PROFILES = """
[branding]
logo = "logo.png"
position = "top-left"
margin = 0.05
scale = 0.2
opacity = 1.0

[profiles.broadcast]
kind = "mp4"
max_height = 180
video_bitrate = "1500k"
audio_bitrate = "96k"
crf = 4
branding = { logo = true }

[profiles.playback]
kind = "mp4"
max_height = 180
video_bitrate = "1500k"
audio_bitrate = "96k"
crf = 4
branding = { captions = "zh" }

[profiles.proxy]
kind = "mp4"
max_height = 180
video_bitrate = "500k"
audio_bitrate = "96k"
"""


def _ffmpeg(*args: str) -> None:
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    subprocess.run(argv, check=True, capture_output=True, timeout=60)


def frame(path: Path, seconds: float) -> bytes:
    argv = ["ffmpeg", "-v", "error", "-ss", f"{seconds}", "-i", str(path), "-frames:v", "1",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]  # fmt: skip
    return subprocess.run(argv, check=True, capture_output=True, timeout=60).stdout


def light(data: bytes, rows: range) -> int:
    return sum(1 for y in rows for x in range(W) if min(data[(y * W + x) * 3 :][:3]) > 150)


def test_subtitles_burn_into_playback_and_the_logo_onto_broadcast(
    runtime: Runtime, session: Session, tmp_path: Path
) -> None:
    film, logo = tmp_path / "乡村 振兴.mp4", tmp_path / "logo.png"
    _ffmpeg("-f", "lavfi", "-i", f"color=c=0x404040:s={W}x{H}:r=25:d=3",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", str(film))  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=64x32,format=rgba", "-frames:v", "1", str(logo))
    (tmp_path / "profiles.toml").write_text(PROFILES, encoding="utf-8")
    profiles = load_profiles(tmp_path / "profiles.toml")

    result = IngestService(session, runtime.storage).ingest_file(
        film, programme="时代风采", title="第1集"
    )
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n请大家认真学习\n"
    SubtitleService(session, runtime.storage).attach(
        result.version.episode, vtt.encode(), "字幕.vtt", "zh", None
    )
    session.commit()  # the test is the entry point: it ends the unit of work
    service = ProcessingService(session, runtime.storage)
    plan = service.begin(result.version.id, worker="test")
    assert plan is not None and plan.subtitle_keys.keys() == {"zh"}
    process_source(plan, runtime.storage, runtime.settings, on_progress=lambda p: None,
                   publish=lambda r: service.publish(plan, r), profiles=profiles)  # fmt: skip
    session.commit()

    version = session.get_one(Version, result.version.id)
    files = {}
    for name in ("broadcast", "playback", "proxy"):
        rendition = version.rendition(name)
        assert rendition is not None
        files[name] = tmp_path / f"{name}.mp4"
        runtime.storage.download_to(rendition.storage_key, files[name])
    bottom = range(H // 2, H)
    assert light(frame(files["playback"], 0.5), bottom) == 0
    assert light(frame(files["playback"], 1.5), bottom) > 30  # the cue, burned in
    assert light(frame(files["playback"], 2.5), bottom) == 0
    assert light(frame(files["proxy"], 1.5), bottom) == 0  # the review copy stays clean
    # The logo: 36 px tall, 72 wide, 9 px from the top-left corner, fully opaque blue.
    pic = frame(files["broadcast"], 1.0)
    r, g, b = pic[(26 * W + 40) * 3 :][:3]
    assert b > 200 and r < 40 and g < 40
    r, g, b = pic[(26 * W + 100) * 3 :][:3]
    assert abs(r - 64) < 8 and abs(b - 64) < 8  # beside the logo: the picture


CARDS = """
[branding]
slate_seconds = 1.0
closing_seconds = 1.0
closing_text = "版权所有 © 2026 某某县电教中心"

[profiles.broadcast]
kind = "mp4"
max_height = 180
video_bitrate = "1500k"
audio_bitrate = "96k"
branding = { slate = true, closing = true }

[profiles.proxy]
kind = "mp4"
max_height = 180
video_bitrate = "500k"
audio_bitrate = "96k"
"""


def test_a_profile_with_slate_and_closing_card_passes_qc(
    runtime: Runtime, session: Session, tmp_path: Path
) -> None:
    """QC holds the broadcast copy to film + slate + closing card (2 + 1 + 1 s): it is
    published, with the slate before the film and the card after it."""
    film = tmp_path / "film.mp4"
    _ffmpeg("-f", "lavfi", "-i", f"color=c=0x404040:s={W}x{H}:r=25:d=2",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", str(film))  # fmt: skip
    (tmp_path / "profiles.toml").write_text(CARDS, encoding="utf-8")
    profiles = load_profiles(tmp_path / "profiles.toml")
    result = IngestService(session, runtime.storage).ingest_file(
        film, programme="时代风采", title="第2集"
    )
    session.commit()
    service = ProcessingService(session, runtime.storage)
    plan = service.begin(result.version.id, worker="test")
    assert plan is not None and plan.slate_lines
    process_source(plan, runtime.storage, runtime.settings, on_progress=lambda p: None,
                   publish=lambda r: service.publish(plan, r), profiles=profiles)  # fmt: skip
    session.commit()

    version = session.get_one(Version, result.version.id)
    broadcast, proxy = version.rendition("broadcast"), version.rendition("proxy")
    assert broadcast is not None and proxy is not None
    assert abs(broadcast.media_info["duration"] - 4.0) < 0.1
    assert abs(proxy.media_info["duration"] - 2.0) < 0.1  # no cards on the review copy
    path = tmp_path / "broadcast.mp4"
    runtime.storage.download_to(broadcast.storage_key, path)
    centre = (H // 2 * W + 10) * 3  # left of the centred text
    card_blue = (0x10, 0x24, 0x3E)
    for seconds, want in [(0.5, card_blue), (2.0, (64, 64, 64)), (3.5, card_blue)]:
        got = tuple(frame(path, seconds)[centre:][:3])
        assert all(abs(a - b) <= 8 for a, b in zip(got, want, strict=True)), (seconds, got)
