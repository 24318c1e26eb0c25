"""The profiles file: the shipped one, an override through MAM_PROFILES, and bad files."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from mam.config import Settings
from workers.ffmpeg.specs import HlsRendition, Mp4Rendition
from workers.profiles import SHIPPED, ProfileError, cached_profiles, load_profiles

MINIMAL = """
[profiles.proxy]
kind = "mp4"
max_height = 540
video_bitrate = "1200k"
audio_bitrate = "128k"
"""


def test_shipped_profiles() -> None:
    profiles = load_profiles()
    assert profiles.names == ("broadcast", "playback", "web", "mobile", "proxy")
    broadcast = profiles.rendition("broadcast")
    assert isinstance(broadcast, Mp4Rendition)
    assert (broadcast.max_height, broadcast.h264_profile, broadcast.video_bitrate) == (
        1080, "high", "8M")  # fmt: skip
    assert (broadcast.audio_bitrate, broadcast.audio_rate) == ("192k", 48000)
    assert broadcast.loudness.integrated == -23.0 and broadcast.loudness.true_peak == -1.0
    playback = profiles.rendition("playback")
    assert isinstance(playback, Mp4Rendition)
    assert (playback.max_height, playback.h264_profile, playback.faststart) == (720, "main", True)
    web = profiles.rendition("web")
    assert isinstance(web, HlsRendition)
    assert [r.max_height for r in web.rungs] == [1080, 720, 540, 360]
    assert [r.video_bitrate for r in web.rungs] == ["6000k", "3000k", "2000k", "730k"]
    assert (web.gop_seconds, web.segment_seconds) == (2.0, 6.0)
    assert web.loudness.integrated == -16.0  # the per-profile override
    mobile = profiles.rendition("mobile")
    assert isinstance(mobile, Mp4Rendition) and mobile.max_height == 360
    assert profiles.thumbnails.count >= 1 and profiles.sprite.columns >= 1


def test_minimal_file_gets_defaults(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    profiles = load_profiles(path)
    assert profiles.names == ("proxy",)
    assert profiles.source == str(path)
    proxy = profiles.rendition("proxy")
    assert isinstance(proxy, Mp4Rendition)
    assert (proxy.maxrate, proxy.h264_profile, proxy.gop_seconds) == (None, "main", 2.0)
    assert proxy.loudness.integrated == -23.0


def test_mam_profiles_overrides_the_shipped_file(tmp_path: Path) -> None:
    path = tmp_path / "county.toml"
    path.write_text(MINIMAL.replace("540", "480"), encoding="utf-8")
    settings = Settings.from_env({"MAM_PROFILES": str(path), "MAM_HOME": str(tmp_path)})
    assert settings.profiles == path
    assert cached_profiles(settings.profiles).rendition("proxy").max_height == 480
    assert cached_profiles(None).source == str(SHIPPED)


def _broken(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as excinfo:
        load_profiles(path)
    message = str(excinfo.value)
    assert message.startswith(f"{path}: ")
    return message[len(str(path)) + 2 :]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('"1200k"', '"fast"'),
         "profiles.proxy.video_bitrate: expected a bitrate such as '3000k' or '8M', got 'fast'"),
        (("max_height = 540", "max_height = 9000"),
         "profiles.proxy.max_height: must be between 16 and 2160, got 9000"),
        (("max_height = 540", 'max_height = "540"'),
         "profiles.proxy.max_height: expected int, got '540'"),
        (('kind = "mp4"', 'kind = "avi"'),
         "profiles.proxy.kind: must be one of mp4, hls, got 'avi'"),
        (('audio_bitrate = "128k"', 'audio_bitrate = "128k"\nvideo_bitarte = "1M"'),
         "profiles.proxy.video_bitarte: unknown setting"),
        (('audio_bitrate = "128k"', ""), "profiles.proxy.audio_bitrate: missing"),
        (("[profiles.proxy]", "[profiles.review]"),
         "profiles.proxy: missing (the review copy the web player shows)"),
        (("[profiles.proxy]", "[profiles.Proxy]"), "profiles.Proxy: a profile name is"),
        (("[profiles.proxy]", "[loudness]\nintegrated = 5\n[profiles.proxy]"),
         "loudness.integrated: must be between -70 and -5, got 5"),
    ],
)  # fmt: skip
def test_bad_files_name_the_key(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    assert _broken(tmp_path, MINIMAL.replace(*change)).startswith(expected)


def test_hls_segments_must_hold_whole_gops(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + """
[profiles.web]
kind = "hls"
gop_seconds = 2
segment_seconds = 5
[[profiles.web.rungs]]
max_height = 720
video_bitrate = "3000k"
audio_bitrate = "128k"
"""
    )
    assert _broken(tmp_path, text).startswith(
        "profiles.web.segment_seconds: must be a whole number of GOPs (2 s)"
    )
    upside_down = (
        text.replace("segment_seconds = 5", "segment_seconds = 6")
        + """
[[profiles.web.rungs]]
max_height = 1080
video_bitrate = "6000k"
audio_bitrate = "128k"
"""
    )
    assert _broken(tmp_path, upside_down).startswith("profiles.web.rungs: rungs must go from")
    assert _broken(tmp_path, text.replace("[[profiles.web.rungs]]\nmax_height = 720\n"
                                          'video_bitrate = "3000k"\naudio_bitrate = "128k"\n',
                                          "rungs = []\n")).startswith(
        "profiles.web.rungs: an HLS profile needs at least one rung")  # fmt: skip


def test_unreadable_files(tmp_path: Path) -> None:
    assert _broken(tmp_path, "[profiles.proxy\n").startswith("not valid TOML")
    with pytest.raises(ProfileError, match="profiles file not found"):
        load_profiles(tmp_path / "missing.toml")


def test_shipped_file_documents_every_profile() -> None:
    data = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    text = SHIPPED.read_text(encoding="utf-8")
    for name in data["profiles"]:
        assert f"[profiles.{name}]" in text
    assert "MAM_PROFILES" in text


def test_a_worker_refuses_to_start_with_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(MINIMAL.replace('"1200k"', '"lots"'), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAM_")}
    env.update({"MAM_HOME": str(tmp_path), "MAM_PROFILES": str(path)})
    result = subprocess.run(
        [sys.executable, "-c", "import workers.main"],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        f"cannot start the worker: {path}: profiles.proxy.video_bitrate: expected a bitrate "
        "such as '3000k' or '8M', got 'lots'"
    )
