"""run_ffmpeg: progress parsing, error classification and real transcodes of generated media."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mam.errors import ProcessingError
from mam.probe import MediaInfo, probe
from tests import media
from workers.ffmpeg.commands import Mp4Rendition, PosterSpec, build_process_command
from workers.ffmpeg.runner import (
    Progress,
    ProgressParser,
    classify_ffmpeg_error,
    parse_progress_line,
    run_ffmpeg,
)

PROXY = Mp4Rendition("proxy", 540, "1200k", "1800k", "2400k", "128k")

# ---- progress parsing ----

BLOCK = """frame=50
fps=0.00
stream_0_0_q=28.0
bitrate=N/A
total_size=48
out_time_us=2500000
out_time_ms=2500000
out_time=00:00:02.500000
dup_frames=0
drop_frames=0
speed=1.25x
progress=continue
"""


def _feed(parser: ProgressParser, text: str) -> list[Progress]:
    return [p for line in text.splitlines() if (p := parser.feed(line)) is not None]


def test_parse_progress_line() -> None:
    assert parse_progress_line("out_time_us=2500000\n") == ("out_time_us", "2500000")
    assert parse_progress_line("speed=N/A") == ("speed", "N/A")
    assert parse_progress_line("garbage") is None


def test_progress_block_gives_percent_speed_and_eta() -> None:
    (progress,) = _feed(ProgressParser(duration=10.0), BLOCK)
    assert progress == Progress(percent=25.0, out_time=2.5, speed=1.25, eta=6.0)


def test_progress_handles_na_clamps_and_ends_at_100() -> None:
    parser = ProgressParser(duration=2.0)
    (first,) = _feed(parser, "out_time_us=N/A\nspeed=N/A\nprogress=continue\n")
    assert first == Progress(0.0, 0.0, None, None)
    (over,) = _feed(parser, "out_time_us=2600000\nspeed=2x\nprogress=continue\n")
    assert over.percent == 100.0
    assert over.eta == 0.0
    (end,) = _feed(parser, "out_time_us=2600000\nprogress=end\n")
    assert end.percent == 100.0


def test_progress_without_duration_stays_at_zero_until_the_end() -> None:
    parser = ProgressParser(duration=None)
    assert _feed(parser, BLOCK)[0].percent == 0.0
    assert _feed(parser, "progress=end\n")[0].percent == 100.0


# ---- error classification ----


@pytest.mark.parametrize(
    ("stderr", "returncode", "reason", "permanent"),
    [
        ("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d0c8] moov atom not found\n"
         "in.mp4: Invalid data found when processing input", 1, "moov atom not found", True),
        ("in.ts: Invalid data found when processing input", 1,
         "in.ts: Invalid data found when processing input", True),
        ("Stream map '0:a:3' matches no streams.\nTo ignore this, add a trailing '?' to the map.",
         1, "Stream map '0:a:3' matches no streams.", True),
        ("Output file #0 does not contain any stream", 1,
         "Output file #0 does not contain any stream", True),
        ("[mpeg2video @ 0x1] Unsupported codec with id 0 for input stream 0", 1,
         "Unsupported codec with id 0 for input stream 0", True),
        ("av_interleaved_write_frame(): No space left on device\n"
         "Error writing trailer of out.mp4: No space left on device\nConversion failed!", 1,
         "Error writing trailer of out.mp4: No space left on device", False),
        ("Error while decoding: Resource temporarily unavailable", 1,
         "Error while decoding: Resource temporarily unavailable", False),
        ("in.mp4: Input/output error", 1, "in.mp4: Input/output error", False),
        ("whatever was printed", -9, "ffmpeg was killed by signal SIGKILL", False),
        ("Exiting normally, received signal 15.", 255, "ffmpeg was stopped by a signal", False),
        ("Something new went wrong\nConversion failed!", 1, "Something new went wrong", False),
        ("", 1, "ffmpeg exited with status 1 without an error message", False),
    ],
)  # fmt: skip
def test_classify_ffmpeg_error(stderr: str, returncode: int, reason: str, permanent: bool) -> None:
    assert classify_ffmpeg_error(stderr, returncode) == (reason, permanent)


# ---- real ffmpeg runs ----


@pytest.fixture(scope="module")
def sample(media_dir: Path) -> Callable[[str], Path]:
    """Return a function that generates (once per module) a named sample file."""
    folder = media_dir / "runner"
    folder.mkdir(exist_ok=True)
    makers: dict[str, Callable[[Path], Path]] = {
        "clip.mp4": lambda p: media.make_clip(p, seconds=3),
        "interlaced.ts": media.make_interlaced_mpeg2_ts,
        "dvd.mpg": media.make_anamorphic_dvd,
        "phone.mp4": media.make_rotated_phone,
        "surround.mp4": media.make_surround,
        "silent.webm": media.make_webm_no_audio,
        "vfr.mp4": media.make_vfr,
        "notes.mp4": media.make_text_file_as_mp4,
    }
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = makers[name](folder / name)
        return made[name]

    return get


def _transcode(
    source: Path,
    out: Path,
    renditions: tuple[Mp4Rendition, ...] = (PROXY,),
    poster: PosterSpec | None = None,
) -> dict[str, MediaInfo]:
    """Transcode with the real builder; return the probe of every MP4 output by name."""
    info = probe(source)
    run_ffmpeg(build_process_command(str(source), info, str(out), renditions, poster),
               duration=info.duration, timeout=60)  # fmt: skip
    return {r.name: probe(out / f"{r.name}.mp4") for r in renditions}


def _top_level_atoms(path: Path) -> list[str]:
    data = path.read_bytes()
    atoms, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        atoms.append(kind.decode("latin-1"))
        pos += size
    return atoms


@pytest.mark.slow
def test_proxy_and_poster_from_one_run(sample: Callable[[str], Path], tmp_path: Path) -> None:
    source = sample("clip.mp4")
    info = probe(source)
    small = Mp4Rendition("small", 180, "300k", None, None, "64k", crf=28)
    # ffmpeg reports progress only once every output has started, i.e. after the
    # poster window: keep it short so that progress flows for most of the run.
    poster = PosterSpec(window_frames=10)
    argv = build_process_command(str(source), info, str(tmp_path), [PROXY, small], poster)
    argv[1:1] = ["-stats_period", "0.05"]  # several progress blocks even for a 3 s clip:
    argv[argv.index("-i") : argv.index("-i")] = ["-readrate", "6"]  # read at 6x real time
    seen: list[Progress] = []
    run_ffmpeg(argv, duration=info.duration, on_progress=seen.append, progress_interval=0)

    proxy = probe(tmp_path / "proxy.mp4")
    v, a = proxy.primary_video, proxy.primary_audio
    assert v is not None and a is not None
    assert (v.codec, v.profile, v.pix_fmt) == ("h264", "Main", "yuv420p")
    assert v.field_order == "progressive"
    assert (v.width, v.height) == (320, 240)  # never upscaled to 540
    assert (a.codec, a.channels, a.sample_rate) == ("aac", 2, 48000)
    assert proxy.duration == pytest.approx(info.duration, abs=0.1)
    atoms = _top_level_atoms(tmp_path / "proxy.mp4")
    assert atoms.index("moov") < atoms.index("mdat")  # faststart
    sv = probe(tmp_path / "small.mp4").primary_video
    assert sv is not None
    assert (sv.width, sv.height) == (240, 180)

    jpeg = (tmp_path / "poster.jpg").read_bytes()
    assert jpeg[:3] == b"\xff\xd8\xff"
    picture = probe(tmp_path / "poster.jpg").primary_video
    assert picture is not None
    assert (picture.codec, picture.width, picture.height) == ("mjpeg", 320, 240)

    percents = [p.percent for p in seen]
    assert len(percents) >= 3
    assert percents == sorted(percents)
    assert percents[-1] == 100.0
    assert percents[-2] < 100.0
    assert seen[-1].eta == 0.0


def test_progress_is_throttled(sample: Callable[[str], Path], tmp_path: Path) -> None:
    source = sample("clip.mp4")
    info = probe(source)
    argv = build_process_command(str(source), info, str(tmp_path), [PROXY], None)
    argv[1:1] = ["-stats_period", "0.05"]
    seen: list[Progress] = []
    run_ffmpeg(argv, duration=info.duration, on_progress=seen.append, progress_interval=60)
    assert len(seen) <= 2  # at most one in-between report, then the final 100 %
    assert seen[-1].percent == 100.0


def test_corrupt_source_is_a_permanent_failure(
    sample: Callable[[str], Path], tmp_path: Path
) -> None:
    info = probe(sample("clip.mp4"))
    argv = build_process_command(str(sample("notes.mp4")), info, str(tmp_path), [PROXY], None)
    with pytest.raises(ProcessingError) as excinfo:
        run_ffmpeg(argv, duration=info.duration)
    assert excinfo.value.permanent
    assert excinfo.value.message == "ffmpeg failed: moov atom not found"
    assert "Invalid data found" in str(excinfo.value.details["stderr_tail"])


@pytest.mark.slow
def test_time_limit_kills_ffmpeg() -> None:
    argv = ["ffmpeg", "-hide_banner", "-nostats", "-progress", "pipe:1",
            "-f", "lavfi", "-i", "testsrc", "-f", "null", "-"]  # fmt: skip
    started = time.monotonic()
    with pytest.raises(ProcessingError, match=r"time limit of 1 s") as excinfo:
        run_ffmpeg(argv, duration=None, timeout=1)
    assert excinfo.value.permanent
    assert time.monotonic() - started < 5


def test_missing_ffmpeg_is_transient() -> None:
    with pytest.raises(ProcessingError, match="ffmpeg-not-installed not found") as excinfo:
        run_ffmpeg(["ffmpeg-not-installed", "-version"], duration=None)
    assert not excinfo.value.permanent


class Cancelled(Exception):
    """Raised by a progress callback, e.g. when the job was revoked."""


def test_callback_error_stops_ffmpeg() -> None:
    def cancel(_progress: Progress) -> None:
        raise Cancelled

    argv = ["ffmpeg", "-nostats", "-stats_period", "0.05", "-progress", "pipe:1",
            "-f", "lavfi", "-i", "testsrc", "-f", "null", "-"]  # fmt: skip
    started = time.monotonic()
    with pytest.raises(Cancelled):
        run_ffmpeg(argv, duration=None, on_progress=cancel, progress_interval=0)
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_anamorphic_dvd_becomes_square_pixels(
    sample: Callable[[str], Path], tmp_path: Path
) -> None:
    full = Mp4Rendition("full", 576, "1500k", None, None, "128k")
    outs = _transcode(sample("dvd.mpg"), tmp_path, (full, PROXY), PosterSpec())
    for name, size in (("full", (1024, 576)), ("proxy", (960, 540))):
        v = outs[name].primary_video
        assert v is not None
        assert ((v.width, v.height), v.sar) == (size, "1:1")
    poster = probe(tmp_path / "poster.jpg").primary_video
    assert poster is not None
    assert (poster.width, poster.height, poster.sar) == (960, 540, "1:1")


@pytest.mark.slow
def test_interlaced_source_is_deinterlaced(sample: Callable[[str], Path], tmp_path: Path) -> None:
    v = _transcode(sample("interlaced.ts"), tmp_path)["proxy"].primary_video
    assert v is not None
    assert (v.width, v.height, v.field_order, v.frame_rate) == (960, 540, "progressive", "25/1")


def test_rotated_phone_comes_out_portrait(sample: Callable[[str], Path], tmp_path: Path) -> None:
    v = _transcode(sample("phone.mp4"), tmp_path)["proxy"].primary_video
    assert v is not None
    assert (v.width, v.height, v.rotation) == (180, 320, 0)


def test_source_without_audio_gets_a_silent_stereo_track(
    sample: Callable[[str], Path], tmp_path: Path
) -> None:
    out = _transcode(sample("silent.webm"), tmp_path)["proxy"]
    a = out.primary_audio
    assert a is not None
    assert (a.codec, a.channels, a.sample_rate) == ("aac", 2, 48000)
    assert out.duration == pytest.approx(1.0, abs=0.1)


def test_surround_is_downmixed_to_stereo(sample: Callable[[str], Path], tmp_path: Path) -> None:
    a = _transcode(sample("surround.mp4"), tmp_path)["proxy"].primary_audio
    assert a is not None
    assert (a.channels, a.channel_layout) == (2, "stereo")


@pytest.mark.slow
def test_variable_frame_rate_becomes_constant(
    sample: Callable[[str], Path], tmp_path: Path
) -> None:
    source = probe(sample("vfr.mp4"))
    out = _transcode(sample("vfr.mp4"), tmp_path)["proxy"]
    v = out.primary_video
    assert v is not None
    assert not v.is_vfr
    assert v.frame_rate == "18/1"
    assert out.duration == pytest.approx(source.duration, abs=0.15)
