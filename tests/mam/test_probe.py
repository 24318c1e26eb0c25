"""mam.probe against generated media and hand-written ffprobe JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mam import probe as probe_module
from mam.errors import InvalidMedia
from mam.probe import MediaInfo, parse_ffprobe_json, probe
from tests import media


@pytest.fixture(scope="module")
def sample(media_dir: Path) -> Callable[[str], Path]:
    """Return a function that generates (once per module) a named sample file."""
    folder = media_dir / "probe"
    folder.mkdir(exist_ok=True)
    makers: dict[str, Callable[[Path], Path]] = {
        "clip.mp4": media.make_clip,
        "interlaced.ts": media.make_interlaced_mpeg2_ts,
        "dvd.mpg": media.make_anamorphic_dvd,
        "phone.mp4": media.make_rotated_phone,
        "surround.mp4": media.make_surround,
        "silent.webm": media.make_webm_no_audio,
        "vfr.mp4": media.make_vfr,
        "cover.mp3": media.make_audio_with_cover,
        "notes.mp4": media.make_text_file_as_mp4,
        "truncated.mp4": media.make_truncated_mp4,
        "empty.mp4": media.make_empty,
    }
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = makers[name](folder / name)
        return made[name]

    return get


def test_progressive_h264_clip(sample: Callable[[str], Path]) -> None:
    path = sample("clip.mp4")
    info = probe(path)
    assert "mp4" in info.container
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert info.size == path.stat().st_size
    assert info.bit_rate and info.bit_rate > 0
    assert (info.has_video, info.has_audio, info.subtitles) == (True, True, 0)
    v = info.primary_video
    assert v is not None
    assert (v.codec, v.width, v.height, v.sar, v.dar) == ("h264", 320, 240, "1:1", "4:3")
    assert (v.frame_rate, v.fps, v.field_order, v.rotation) == ("25/1", 25.0, "progressive", 0)
    assert (v.display_width, v.display_height) == (320, 240)
    assert not v.is_interlaced
    assert not v.is_vfr
    assert v.pix_fmt == "yuv420p"
    assert v.frames == 50
    a = info.primary_audio
    assert a is not None
    assert (a.codec, a.channels, a.channel_layout, a.sample_rate) == ("aac", 2, "stereo", 48000)


def test_interlaced_mpeg2_transport_stream(sample: Callable[[str], Path]) -> None:
    info = probe(sample("interlaced.ts"))
    assert info.container == "mpegts"
    v = info.primary_video
    assert v is not None
    assert (v.codec, v.width, v.height) == ("mpeg2video", 1920, 1080)
    assert v.field_order == "tt"
    assert v.is_interlaced
    assert info.primary_audio is not None and info.primary_audio.codec == "mp2"


def test_anamorphic_dvd_has_square_pixel_display_size(sample: Callable[[str], Path]) -> None:
    info = probe(sample("dvd.mpg"))
    assert info.container == "mpeg"
    assert len(info.video) == 1  # the DVD navigation data stream is not video
    v = info.video[0]
    assert v.index == 1
    assert (v.codec, v.width, v.height, v.sar, v.dar) == ("mpeg2video", 720, 576, "64:45", "16:9")
    assert (v.display_width, v.display_height) == (1024, 576)
    assert info.primary_audio is not None and info.primary_audio.codec == "ac3"


def test_rotated_phone_clip_is_portrait(sample: Callable[[str], Path]) -> None:
    v = probe(sample("phone.mp4")).primary_video
    assert v is not None
    assert v.rotation == 90  # clockwise turn needed to show it upright
    assert (v.width, v.height) == (320, 180)
    assert (v.display_width, v.display_height) == (180, 320)


def test_surround_audio_has_six_channels(sample: Callable[[str], Path]) -> None:
    a = probe(sample("surround.mp4")).primary_audio
    assert a is not None
    assert (a.codec, a.channels, a.channel_layout) == ("aac", 6, "5.1")


def test_webm_without_audio(sample: Callable[[str], Path]) -> None:
    info = probe(sample("silent.webm"))
    assert "webm" in info.container
    assert info.primary_video is not None and info.primary_video.codec == "vp9"
    assert info.audio == ()
    assert info.primary_audio is None
    assert not info.has_audio


def test_variable_frame_rate_is_flagged(sample: Callable[[str], Path]) -> None:
    v = probe(sample("vfr.mp4")).primary_video
    assert v is not None
    assert v.frame_rate == "30/1"
    assert v.avg_frame_rate != v.frame_rate
    assert v.is_vfr


def test_stream_durations_are_kept(sample: Callable[[str], Path]) -> None:
    """The picture of the VFR sample ends before its sound; both are known."""
    info = probe(sample("vfr.mp4"))
    assert info.duration == pytest.approx(2.5, abs=0.01)
    assert info.primary_video and info.primary_video.duration == pytest.approx(2.433, abs=0.01)
    assert info.primary_audio and info.primary_audio.duration == pytest.approx(2.5, abs=0.01)
    assert probe(sample("silent.webm")).primary_video.duration is None  # type: ignore[union-attr]


def test_cover_art_is_not_video(sample: Callable[[str], Path]) -> None:
    info = probe(sample("cover.mp3"))
    assert not info.has_video
    assert info.primary_audio is not None and info.primary_audio.codec == "mp3"
    assert info.duration == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.mp4", "is empty (0 bytes)"),
        ("notes.mp4", "moov atom not found"),
        ("truncated.mp4", "moov atom not found"),
    ],
)
def test_unreadable_files_are_invalid_media(
    sample: Callable[[str], Path], name: str, reason: str
) -> None:
    path = sample(name)
    with pytest.raises(InvalidMedia) as excinfo:
        probe(path)
    assert excinfo.value.message.startswith(name)
    assert reason in excinfo.value.message
    assert str(path.parent) not in excinfo.value.message  # no server paths for users


def test_message_uses_display_name(sample: Callable[[str], Path]) -> None:
    unreadable = r"^第1集 讲义\.mp4 is not a readable audio or video file\. \(.*moov"
    with pytest.raises(InvalidMedia, match=unreadable) as err:
        probe(sample("notes.mp4"), display_name="第1集 讲义.mp4")
    # A code and the file's name for the reader; ffprobe's own words as a detail apart.
    assert err.value.code == "media.unreadable" and err.value.params == {"file": "第1集 讲义.mp4"}
    assert err.value.detail is not None and "moov atom not found" in err.value.detail


def test_subtitles_only_has_no_audio_or_video(media_dir: Path, tmp_path: Path) -> None:
    srt = tmp_path / "lesson.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n", encoding="utf-8")
    with pytest.raises(InvalidMedia, match=r"^lesson\.srt contains no sound or picture\.$"):
        probe(srt)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidMedia, match=r"^gone\.mp4 does not exist\.$"):
        probe(tmp_path / "gone.mp4")


def test_ffprobe_not_installed(
    sample: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe_module, "FFPROBE", "ffprobe-that-is-not-installed")
    with pytest.raises(InvalidMedia, match=r"clip\.mp4 cannot be checked: ffprobe is not"):
        probe(sample("clip.mp4"))


def test_ffprobe_timeout(
    sample: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = tmp_path / "slow-ffprobe"
    slow.write_text("#!/bin/sh\nexec sleep 10\n", encoding="utf-8")
    slow.chmod(0o755)
    monkeypatch.setattr(probe_module, "FFPROBE", str(slow))
    with pytest.raises(InvalidMedia, match=r"^clip\.mp4 .*did not finish within 0\.2 s"):
        probe(sample("clip.mp4"), timeout=0.2)


@pytest.mark.parametrize("name", ["clip.mp4", "dvd.mpg", "phone.mp4", "silent.webm"])
def test_to_dict_round_trips_through_json(sample: Callable[[str], Path], name: str) -> None:
    info = probe(sample(name))
    data = json.loads(json.dumps(info.to_dict()))
    assert MediaInfo.from_dict(data) == info
    assert MediaInfo.from_dict(info.to_dict()) == info


def test_from_dict_ignores_keys_from_newer_versions(sample: Callable[[str], Path]) -> None:
    info = probe(sample("clip.mp4"))
    data = info.to_dict()
    data["video"][0]["hdr"] = "pq"
    data["chapters"] = 3
    assert MediaInfo.from_dict(data) == info


# ---- parse_ffprobe_json: conventions that generated media cannot easily show ----


def _stream(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "index": 0, "codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
        "r_frame_rate": "30/1", "avg_frame_rate": "30/1", "field_order": "progressive",
    }  # fmt: skip
    return base | extra


def _parse(*streams: dict[str, Any], duration: str | None = "10.0") -> MediaInfo:
    fmt = {"format_name": "mov,mp4", "format_long_name": "QuickTime / MOV"}
    if duration is not None:
        fmt["duration"] = duration
    return parse_ffprobe_json({"format": fmt, "streams": list(streams)}, "x.mp4")


@pytest.mark.parametrize(
    ("side_rotation", "tag", "expected"),
    [
        (-90, None, 90),
        (90, None, 270),
        (180, None, 180),
        (-180, None, 180),
        (-89.99, None, 90),
        (None, "90", 90),
        (None, "270", 270),
        (None, "-90", 270),
        (-90, "270", 90),  # the display matrix wins over a stale tag
        (None, None, 0),
    ],
)
def test_rotation_is_stored_clockwise(
    side_rotation: float | None, tag: str | None, expected: int
) -> None:
    extra: dict[str, Any] = {}
    if side_rotation is not None:
        extra["side_data_list"] = [{"side_data_type": "Display Matrix", "rotation": side_rotation}]
    if tag is not None:
        extra["tags"] = {"rotate": tag}
    v = _parse(_stream(**extra)).video[0]
    assert v.rotation == expected
    portrait = expected in (90, 270)
    assert (v.display_width, v.display_height) == ((1080, 1920) if portrait else (1920, 1080))


def test_missing_fields_get_safe_defaults() -> None:
    v = _parse(_stream(sample_aspect_ratio="0:1", field_order=None, bit_rate="N/A")).video[0]
    assert (v.sar, v.dar, v.field_order) == ("1:1", "16:9", "unknown")
    assert (v.bit_rate, v.frames) == (None, None)
    assert not v.is_interlaced


def test_odd_frame_rate_fps_and_vfr() -> None:
    v = _parse(_stream(r_frame_rate="78125/417", avg_frame_rate="2997/100")).video[0]
    assert v.fps == pytest.approx(187.35, abs=0.01)
    assert v.is_vfr
    assert not _parse(_stream(avg_frame_rate="0/0")).video[0].is_vfr


def test_duration_falls_back_to_longest_stream() -> None:
    audio = {"index": 1, "codec_type": "audio", "codec_name": "aac", "channels": 2,
             "sample_rate": "48000", "duration": "12.5"}  # fmt: skip
    info = _parse(_stream(duration="12.0"), audio, duration=None)
    assert info.duration == 12.5


def test_video_without_duration_is_invalid() -> None:
    with pytest.raises(InvalidMedia, match=r"^x\.mp4 has no known length"):
        _parse(_stream(), duration="N/A")
