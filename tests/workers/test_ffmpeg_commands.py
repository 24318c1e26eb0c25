"""The ffmpeg argv built from a probe result (no ffmpeg is run here)."""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from mam.errors import InvalidMedia
from mam.probe import AudioStream, MediaInfo, VideoStream
from workers.ffmpeg.commands import (
    Mp4Rendition,
    PosterSpec,
    build_process_command,
    output_paths,
    scaled_size,
    snap_frame_rate,
)

SRC = "/work/in/源 lecture.mxf"
OUT = "/work/out"
R540 = Mp4Rendition("proxy", 540, "1200k", "1800k", "2400k", "128k")
R360 = Mp4Rendition("small", 360, "600k", None, None, "96k", h264_profile="baseline", crf=24)
HD = VideoStream(
    index=0, codec="h264", profile="High", width=1920, height=1080, sar="1:1", dar="16:9",
    frame_rate="25/1", avg_frame_rate="25/1", field_order="progressive", rotation=0,
    pix_fmt="yuv420p", bit_rate=8_000_000, frames=3000,
)  # fmt: skip
STEREO = AudioStream(index=1, codec="aac", channels=2, channel_layout="stereo",
                     sample_rate=48000, bit_rate=128000)  # fmt: skip


def _info(video: VideoStream = HD, *, audio: bool = True, duration: float = 120.0) -> MediaInfo:
    return MediaInfo(
        container="mov,mp4,m4a,3gp,3g2,mj2", format_long_name="QuickTime / MOV",
        duration=duration, size=1, bit_rate=1, video=(video,),
        audio=(STEREO,) if audio else (), subtitles=0,
    )  # fmt: skip


def _build(
    info: MediaInfo | None = None,
    renditions: tuple[Mp4Rendition, ...] = (R540, R360),
    poster: PosterSpec | None = PosterSpec(),  # noqa: B008 - frozen dataclass
    **kwargs: int,
) -> list[str]:
    return build_process_command(SRC, info or _info(), OUT, renditions, poster, **kwargs)


def _graph(argv: list[str]) -> list[str]:
    """Return the filters of -filter_complex without their [labels]."""
    graph = argv[argv.index("-filter_complex") + 1]
    return [re.sub(r"\[[^\]]*\]", "", f) for f in graph.split(";")]


def _filters(argv: list[str], name: str) -> list[str]:
    return [f for f in _graph(argv) if f.split("=", 1)[0] == name]


def _output_args(argv: list[str], path: str) -> list[str]:
    """Return the options given to one output (between the previous output and it)."""
    end = argv.index(path)
    starts = [argv.index("-filter_complex") + 2]
    starts += [i + 1 for i, a in enumerate(argv[:end]) if a.startswith(OUT + "/")]
    return argv[max(starts) : end]


def _option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_one_invocation_with_quiet_progress_reporting() -> None:
    argv = _build()
    assert argv[0] == "ffmpeg"
    assert "-nostats" in argv and "-hide_banner" in argv and "-y" in argv
    assert _option(argv, "-progress") == "pipe:1"
    assert _option(argv, "-loglevel") in ("error", "warning")
    assert argv.count("-i") == 1
    assert _option(argv, "-i") == SRC
    assert argv.index("-progress") < argv.index("-i")  # global options up front


def test_split_feeds_every_rendition_and_the_poster() -> None:
    assert _filters(_build(), "split") == ["split=3"]
    assert _filters(_build(), "asplit") == ["asplit=2"]
    assert _filters(_build(renditions=(R540,)), "split") == ["split=2"]
    assert _filters(_build(renditions=(R540,)), "asplit") == []
    single = _build(renditions=(R540,), poster=None)
    assert "-filter_complex" in single
    assert _filters(single, "split") == []


def test_streams_are_picked_by_index() -> None:
    video = replace(HD, index=2)  # e.g. after a DVD navigation data stream
    argv = _build(_info(video))
    graph = argv[argv.index("-filter_complex") + 1]
    assert "[0:2]split=3" in graph
    assert "[0:1]asplit=2" in graph


def test_outputs_and_their_options() -> None:
    argv = _build()
    paths = output_paths(OUT, (R540, R360), PosterSpec())
    assert paths == {
        "proxy": f"{OUT}/proxy.mp4",
        "small": f"{OUT}/small.mp4",
        "poster.jpg": f"{OUT}/poster.jpg",
    }
    proxy = _output_args(argv, paths["proxy"])
    assert proxy.count("-map") == 2
    assert _option(proxy, "-c:v") == "libx264"
    assert _option(proxy, "-profile:v") == "main"
    assert _option(proxy, "-pix_fmt") == "yuv420p"
    assert _option(proxy, "-b:v") == "1200k"
    assert (_option(proxy, "-maxrate"), _option(proxy, "-bufsize")) == ("1800k", "2400k")
    assert _option(proxy, "-preset") == "veryfast"
    assert _option(proxy, "-movflags") == "+faststart"
    assert _option(proxy, "-sc_threshold") == "0"
    assert _option(proxy, "-g") == _option(proxy, "-keyint_min") == "50"
    assert (_option(proxy, "-c:a"), _option(proxy, "-b:a")) == ("aac", "128k")
    assert (_option(proxy, "-ac"), _option(proxy, "-ar")) == ("2", "48000")
    small = _output_args(argv, paths["small"])
    assert _option(small, "-crf") == "24"
    assert "-b:v" not in small and "-maxrate" not in small
    assert _option(small, "-profile:v") == "baseline"
    assert "-threads" not in small
    assert _option(_output_args(_build(threads=2), paths["small"]), "-threads") == "2"


def test_poster_is_one_jpeg_picked_after_a_tenth_of_the_film() -> None:
    argv = _build()
    poster = _output_args(argv, f"{OUT}/poster.jpg")
    assert poster.count("-map") == 1
    assert (_option(poster, "-frames:v"), _option(poster, "-q:v")) == ("1", "3")
    assert _option(poster, "-c:v") == "mjpeg"
    (trim,) = _filters(argv, "trim")
    assert "start=12.000" in trim
    assert _filters(argv, "thumbnail") == ["thumbnail=n=100"]
    assert "scale=960:540" in _graph(argv)
    short = _build(_info(duration=3.0), poster=PosterSpec(name="p.jpg"))
    assert "start=0.000" in _filters(short, "trim")[0]  # 100 frames need 4 s
    assert _option(short, "-update") == "1"
    assert short[-1] == f"{OUT}/p.jpg"
    late = _build(_info(duration=20.0), poster=PosterSpec(at_fraction=0.9))
    assert "start=16.000" in _filters(late, "trim")[0]  # the window still fits in the clip


def test_gop_follows_the_frame_rate() -> None:
    ntsc = replace(HD, frame_rate="30000/1001", avg_frame_rate="30000/1001")
    argv = _build(_info(ntsc), renditions=(replace(R540, gop_seconds=4.0),), poster=None)
    assert _option(argv, "-g") == "120"
    assert _filters(argv, "fps") == []


@pytest.mark.parametrize(
    ("field_order", "expected"),
    [
        ("tt", "bwdif=deint=all:mode=send_frame:parity=tff"),
        ("bb", "bwdif=deint=all:mode=send_frame:parity=bff"),
        ("tb", "bwdif=deint=all:mode=send_frame:parity=auto"),
        ("unknown", "bwdif=deint=interlaced:mode=send_frame:parity=auto"),
        ("progressive", None),
    ],
)
def test_deinterlacing_only_for_interlaced_sources(field_order: str, expected: str | None) -> None:
    graph = _graph(_build(_info(replace(HD, field_order=field_order))))
    assert [f for f in graph if f.startswith("bwdif")] == ([expected] if expected else [])
    if expected:
        assert graph[0] == expected  # before scaling and splitting


def test_anamorphic_pal_becomes_square_pixels() -> None:
    dvd = replace(HD, codec="mpeg2video", width=720, height=576, sar="64:45", dar="16:9")
    full = replace(R540, name="full", max_height=576)
    graph = _graph(_build(_info(dvd), renditions=(full, R540)))
    assert "scale=1024:576" in graph
    assert "scale=960:540" in graph
    assert graph.count("setsar=1") == 3


def test_never_upscales_and_keeps_dimensions_even() -> None:
    small = replace(HD, width=320, height=240, sar="1:1", dar="4:3")
    assert "scale=320:240" in _graph(_build(_info(small)))
    scope = replace(HD, width=1280, height=545, dar="256:109")
    graph = _graph(_build(_info(scope)))
    assert "scale=1268:540" in graph
    assert "scale=846:360" in graph
    assert scaled_size(321, 241, 540) == (320, 240)
    assert scaled_size(1920, 1080, 720) == (1280, 720)
    for w, h in [(1920, 1080), (1440, 1080), (720, 480), (853, 480), (1080, 1920)]:
        for max_height in (360, 480, 540, 720, 1080):
            out_w, out_h = scaled_size(w, h, max_height)
            assert out_w % 2 == 0 and out_h % 2 == 0
            assert out_h <= min(max_height, h)


def test_rotated_source_gets_portrait_outputs() -> None:
    phone = replace(HD, rotation=90)
    graph = _graph(_build(_info(phone)))
    assert "scale=304:540" in graph
    assert "scale=202:360" in graph
    assert not any(f.startswith(("transpose", "rotate")) for f in graph)  # autorotate does it
    assert "-noautorotate" not in _build(_info(phone))


def test_silent_track_only_when_the_source_has_no_audio() -> None:
    with_audio = _build()
    assert not any("anullsrc" in a for a in with_audio)
    argv = _build(_info(audio=False, duration=75.5))
    assert argv.count("-i") == 2
    lavfi = argv.index("-i", argv.index("-i") + 1)
    assert argv[lavfi + 1] == "anullsrc=channel_layout=stereo:sample_rate=48000"
    assert argv[lavfi - 4 : lavfi] == ["-f", "lavfi", "-t", "75.500"]
    assert "[1:a]asplit=2" in argv[argv.index("-filter_complex") + 1]
    for name in ("proxy", "small"):
        assert _output_args(argv, f"{OUT}/{name}.mp4").count("-map") == 2


@pytest.mark.parametrize(
    ("r_rate", "avg_rate", "expected"),
    [
        ("25/1", "25/1", None),
        ("30000/1001", "30000/1001", None),
        ("30/1", "1350/73", "fps=fps=18"),  # VFR, not near a standard rate
        ("78125/417", "2997/100", "fps=fps=30000/1001"),  # phone VFR
        ("78125/417", "78125/417", "fps=fps=60"),  # absurd nominal rate, capped
        ("90000/1", "2400/100", "fps=fps=24"),
        ("50/1", "25/1", "fps=fps=25"),  # field rate reported for 25i
        ("15/1", "15/1", "fps=fps=15"),
        ("0/0", "0/0", "fps=fps=25"),
    ],
)
def test_constant_frame_rate_for_vfr_and_odd_rates(
    r_rate: str, avg_rate: str, expected: str | None
) -> None:
    video = replace(HD, frame_rate=r_rate, avg_frame_rate=avg_rate)
    graph = _graph(_build(_info(video)))
    assert _filters(_build(_info(video)), "fps") == ([expected] if expected else [])
    if expected:
        assert graph.index(expected) < graph.index("split=3")


def test_snap_frame_rate() -> None:
    assert snap_frame_rate(Fraction(2997, 100)) == Fraction(30000, 1001)
    assert snap_frame_rate(Fraction(239, 10)) == Fraction(24000, 1001)
    assert snap_frame_rate(Fraction(4950, 100)) == 50
    assert snap_frame_rate(Fraction(125, 10)) == 13
    assert snap_frame_rate(Fraction(120)) == 60
    assert snap_frame_rate(Fraction(1, 10)) == 1


def test_source_path_and_outputs_are_single_arguments() -> None:
    argv = _build(poster=PosterSpec(name="海报 1.jpg"))
    assert SRC in argv
    assert f"{OUT}/海报 1.jpg" in argv


def test_refuses_nonsense() -> None:
    audio_only = replace(_info(), video=())
    with pytest.raises(InvalidMedia, match="has no video stream"):
        _build(audio_only)
    with pytest.raises(ValueError, match="unique"):
        _build(renditions=(R540, R540))
    with pytest.raises(ValueError, match="nothing to produce"):
        _build(renditions=(), poster=None)


def test_output_paths_without_poster(tmp_path: Path) -> None:
    assert output_paths(str(tmp_path), (R360,), None) == {"small": str(tmp_path / "small.mp4")}
