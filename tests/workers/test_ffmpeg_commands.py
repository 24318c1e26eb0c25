"""The one-decode argv built from a probe result and the profiles (no ffmpeg is run here)."""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction

import pytest

from mam.errors import InvalidMedia
from mam.probe import AudioStream, MediaInfo, VideoStream
from workers.ffmpeg.analysis import LoudnessMeasurement
from workers.ffmpeg.commands import build_process_command
from workers.ffmpeg.normalise import scaled_size, snap_frame_rate, sound_lead
from workers.ffmpeg.plan import EncodePlan, plan_encode
from workers.ffmpeg.specs import (
    HlsRendition,
    HlsRung,
    Loudness,
    Mp4Rendition,
    PosterSpec,
    QcSpec,
    SpriteSpec,
)
from workers.profiles import load_profiles

SRC = "/work/in/源 lecture.mxf"
OUT = "/work/out"
R540 = Mp4Rendition("proxy", 540, "1200k", "1800k", "2400k", "128k")
R360 = Mp4Rendition("small", 360, "600k", None, None, "96k", h264_profile="baseline", crf=24)
WEB = HlsRendition(
    "web",
    (
        HlsRung(1080, "6000k", "6600k", "12M"),
        HlsRung(720, "3000k", "3300k", "6M"),
        HlsRung(540, "2000k", "2200k", "4M"),
        HlsRung(360, "730k", "800k", "1460k", "96k", "main"),
    ),
    loudness=Loudness(-16.0),
)
HD = VideoStream(
    index=0, codec="h264", profile="High", width=1920, height=1080, sar="1:1", dar="16:9",
    frame_rate="25/1", avg_frame_rate="25/1", field_order="progressive", rotation=0,
    pix_fmt="yuv420p", bit_rate=8_000_000, frames=3000,
)  # fmt: skip
STEREO = AudioStream(index=1, codec="aac", channels=2, channel_layout="stereo",
                     sample_rate=48000, bit_rate=128000)  # fmt: skip
MEASURED = LoudnessMeasurement(integrated=-20.5, true_peak=-3.2, lra=6.1, threshold=-30.6)


def _info(video: VideoStream = HD, *, audio: bool = True, duration: float = 120.0) -> MediaInfo:
    return MediaInfo(
        container="mov,mp4,m4a,3gp,3g2,mj2", format_long_name="QuickTime / MOV",
        duration=duration, size=1, bit_rate=1, video=(video,),
        audio=(STEREO,) if audio else (), subtitles=0,
    )  # fmt: skip


def _plan(info: MediaInfo | None = None, renditions=(R540, R360), **kwargs) -> EncodePlan:  # type: ignore[no-untyped-def]
    return plan_encode(info or _info(), renditions, **kwargs)


def _build(info: MediaInfo | None = None, renditions=(R540, R360), *, measured=None,  # type: ignore[no-untyped-def]
           threads: int = 0, **kwargs) -> list[str]:  # fmt: skip
    info = info or _info()
    plan = plan_encode(info, renditions, **kwargs)
    return build_process_command(SRC, info, OUT, plan, measured=measured, threads=threads)


def _graph(argv: list[str]) -> list[str]:
    """Return the filters of -filter_complex without their [labels]."""
    graph = argv[argv.index("-filter_complex") + 1]
    return [re.sub(r"\[[^\]]*\]", "", f) for f in graph.split(";")]


def _filters(argv: list[str], name: str) -> list[str]:
    return [f for f in _graph(argv) if f.split("=", 1)[0].split("@")[0] == name]


def _output_args(argv: list[str], path: str) -> list[str]:
    """Return the options given to one output (between the previous output and it)."""
    end = argv.index(path)
    starts = [argv.index("-filter_complex") + 2]
    starts += [
        i + 1
        for i, a in enumerate(argv[:end])
        if (a.startswith(OUT + "/") or a == "-") and not argv[i - 1].startswith("-")
    ]
    return argv[max(s for s in starts if s <= end) : end]


def _option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_one_invocation_with_progress_and_info_level_log() -> None:
    argv = _build()
    assert argv[0] == "ffmpeg"
    assert "-nostats" in argv and "-hide_banner" in argv and "-y" in argv
    assert _option(argv, "-progress") == "pipe:1"
    assert _option(argv, "-loglevel") == "level+info"  # the analysis filters log at info
    assert argv.count("-i") == 1
    assert _option(argv, "-i") == SRC
    assert argv.index("-progress") < argv.index("-i")


def test_the_shipped_profiles_come_out_of_one_decode() -> None:
    profiles = load_profiles()
    info = _info()
    plan = plan_encode(info, profiles.renditions, poster=profiles.poster, sprite=profiles.sprite,
                       qc=profiles.qc, thumbnails=profiles.thumbnails)  # fmt: skip
    argv = build_process_command(SRC, info, OUT, plan, measured=MEASURED)
    assert argv.count("-i") == 1
    for name in ("broadcast", "playback", "mobile", "proxy"):
        assert f"{OUT}/{name}.mp4" in argv
    assert f"{OUT}/web/%v/index.m3u8" in argv
    # One scale per distinct size, each from the next larger one; shared by its users.
    scales = _filters(argv, "scale")
    assert scales == ["scale=1920:1080", "scale=1280:720", "scale=960:540", "scale=640:360",
                      "scale=320:180", "scale=160:90"]  # fmt: skip
    graph = argv[argv.index("-filter_complex") + 1]
    assert graph.count("[0:0]") == 1 and graph.count("[0:1]") == 1  # each stream read once
    # 1080: broadcast + web 1080p + the 720 scale; 720: playback + web 720p + 540 scale;
    # 540: proxy + web 540p + poster + 360 scale; 360: mobile + web 360p + 180 scale;
    # 180: analysis + thumbnails + sprite cells.
    assert _filters(argv, "split") == ["split=3", "split=3", "split=4", "split=3", "split=3"]
    # Ten evenly spaced thumbnails, exact frames (and frame 0 so the output starts at once).
    thumbs = _output_args(argv, f"{OUT}/thumb-frames/%03d.jpg")
    assert (_option(thumbs, "-start_number"), _option(thumbs, "-fps_mode")) == ("0", "vfr")
    (select,) = [f for f in _filters(argv, "select") if "eq(n\\,0)+eq(n\\,150)" in f]
    assert select.endswith("eq(n\\,2850)")


def test_mp4_outputs_and_their_options() -> None:
    argv = _build()
    proxy = _output_args(argv, f"{OUT}/proxy.mp4")
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
    small = _output_args(argv, f"{OUT}/small.mp4")
    assert _option(small, "-crf") == "24"
    assert "-b:v" not in small and "-maxrate" not in small
    assert _option(small, "-profile:v") == "baseline"
    assert "-threads" not in small
    assert _option(_output_args(_build(threads=2), f"{OUT}/small.mp4"), "-threads") == "2"


def test_hls_ladder_has_aligned_keyframes_and_a_master_playlist() -> None:
    argv = _build(renditions=(WEB,))
    web = _output_args(argv, f"{OUT}/web/%v/index.m3u8")
    assert _option(web, "-f") == "hls"
    assert _option(web, "-var_stream_map") == (
        "v:0,a:0,name:1080p v:1,a:1,name:720p v:2,a:2,name:540p v:3,a:3,name:360p"
    )
    assert _option(web, "-master_pl_name") == "master.m3u8"
    assert _option(web, "-hls_time") == "6"
    assert _option(web, "-hls_playlist_type") == "vod"
    assert _option(web, "-hls_segment_filename") == f"{OUT}/web/%v/seg_%05d.ts"
    # 2 s GOP at 25 fps for every rung, no scene-cut keyframes: 6 s segments start on one.
    assert _option(web, "-g") == _option(web, "-keyint_min") == "50"
    assert _option(web, "-sc_threshold") == "0"
    assert web.count("-map") == 8
    bitrates = [_option(web, f"-b:v:{i}") for i in range(4)]
    assert bitrates == ["6000k", "3000k", "2000k", "730k"]
    assert _option(web, "-profile:v:3") == "main" and _option(web, "-b:a:3") == "96k"
    ntsc = replace(HD, frame_rate="30000/1001", avg_frame_rate="30000/1001")
    assert _option(_build(_info(ntsc), renditions=(WEB,)), "-g") == "60"


def test_hls_rungs_above_the_source_are_skipped() -> None:
    dvd = replace(HD, codec="mpeg2video", width=720, height=576, sar="64:45", dar="16:9")
    plan = _plan(_info(dvd), renditions=(WEB,))
    assert [(r.name, r.width, r.height) for r in plan.hls[0].rungs] == [
        ("540p", 960, 540), ("360p", 640, 360)]  # fmt: skip
    tiny = replace(HD, width=320, height=240, dar="4:3")
    plan = _plan(_info(tiny), renditions=(WEB,))
    # Smaller than every rung: one rung at the source's own size, never upscaled.
    assert [(r.name, r.width, r.height) for r in plan.hls[0].rungs] == [("240p", 320, 240)]
    argv = _build(_info(tiny), renditions=(WEB,))
    assert _option(argv, "-var_stream_map") == "v:0,a:0,name:240p"


def test_loudness_pass_two_per_target() -> None:
    argv = _build(renditions=(R540, R360, WEB), measured=MEASURED)
    loudnorm = _filters(argv, "loudnorm")
    assert len(loudnorm) == 2  # -23 LUFS for the MP4s, -16 for the web
    graph = argv[argv.index("-filter_complex") + 1]
    assert "loudnorm@t0=I=-23.0:LRA=20.0:TP=-1.0:linear=true:measured_I=-20.5:" in graph
    assert "loudnorm@t1=I=-16.0:" in graph
    assert "measured_LRA=6.1:measured_TP=-3.2:measured_thresh=-30.6" in graph
    assert _filters(argv, "aresample") == [
        "aresample=async=1:first_pts=0",  # the sound put on the picture's timeline
        "aresample=48000",
        "aresample=48000",
    ]
    assert _filters(argv, "aformat") == ["aformat=channel_layouts=stereo:sample_rates=48000"]
    # Without a measurement (or for silence) the sound is only made stereo 48 kHz.
    assert _filters(_build(renditions=(R540, WEB)), "loudnorm") == []
    silent = replace(MEASURED, integrated=float("-inf"))
    assert _filters(_build(renditions=(R540, WEB), measured=silent), "loudnorm") == []


def test_poster_candidates_sprite_cells_and_analysis_ride_on_the_decode() -> None:
    qc = QcSpec(black_min_seconds=1.5, freeze_min_seconds=3)
    argv = _build(poster=PosterSpec(candidates=50), sprite=SpriteSpec(), qc=qc)
    (select,) = _filters(argv, "select")
    # frame 0 (so the output starts at once) + every 24th frame between 12 s and 60 s
    assert select == (r"select=eq(n\,0)+between(t\,12.000\,60.000)*not(eq(n\,0))"
                      r"*not(mod(n\,24))")  # fmt: skip
    candidates = _output_args(argv, f"{OUT}/poster-candidates/%03d.jpg")
    assert (_option(candidates, "-f"), _option(candidates, "-fps_mode")) == ("image2", "vfr")
    assert _filters(argv, "fps") == ["fps=fps=1/1"]  # sprite cells, 120 s / 400 cells max
    assert f"{OUT}/sprite-cells/%05d.jpg" in argv
    assert _filters(argv, "blackdetect") == ["blackdetect=d=1.5:pic_th=0.98:pix_th=0.1"]
    assert _filters(argv, "freezedetect") == ["freezedetect=d=3:n=-60dB"]
    assert argv[-1] == "-" and argv[-2] == "null"
    long = _plan(_info(duration=3600.0), sprite=SpriteSpec(max_cells=400))
    assert long.sprite_interval == 9.0


@pytest.mark.parametrize(
    ("field_order", "expected"),
    [
        ("tt", ["bwdif=deint=all:mode=send_frame:parity=tff"]),
        ("bb", ["bwdif=deint=all:mode=send_frame:parity=bff"]),
        ("tb", ["bwdif=deint=all:mode=send_frame:parity=auto"]),
        ("unknown", ["idet", "bwdif=deint=interlaced:mode=send_frame:parity=auto"]),
        ("progressive", []),
    ],
)
def test_deinterlacing_only_for_interlaced_sources(field_order: str, expected: list[str]) -> None:
    graph = _graph(_build(_info(replace(HD, field_order=field_order))))
    assert [f for f in graph if f.startswith(("bwdif", "idet"))] == expected
    assert graph[0] == "setpts=PTS-STARTPTS"  # the first frame at 0
    if expected:
        assert graph[1 : len(expected) + 1] == expected  # before scaling and splitting


def test_anamorphic_pal_becomes_square_pixels() -> None:
    dvd = replace(HD, codec="mpeg2video", width=720, height=576, sar="64:45", dar="16:9")
    full = replace(R540, name="full", max_height=576)
    graph = _graph(_build(_info(dvd), renditions=(full, R540)))
    assert "scale=1024:576" in graph
    assert "scale=960:540" in graph
    assert graph.count("setsar=1") == 2


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
    argv = _build(_info(audio=False, duration=75.5), measured=MEASURED)
    assert argv.count("-i") == 2
    lavfi = argv.index("-i", argv.index("-i") + 1)
    assert argv[lavfi + 1] == "anullsrc=channel_layout=stereo:sample_rate=48000"
    assert argv[lavfi - 4 : lavfi] == ["-f", "lavfi", "-t", "75.500000"]
    assert "[1:a]asplit=2" in argv[argv.index("-filter_complex") + 1]
    assert _filters(argv, "loudnorm") == []  # silence is not normalised
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
    argv = _build(_info(video))
    graph = _graph(argv)
    assert _filters(argv, "fps") == ([expected] if expected else [])
    if expected:
        assert graph.index(expected) < graph.index("scale=960:540")


def test_snap_frame_rate() -> None:
    assert snap_frame_rate(Fraction(2997, 100)) == Fraction(30000, 1001)
    assert snap_frame_rate(Fraction(239, 10)) == Fraction(24000, 1001)
    assert snap_frame_rate(Fraction(4950, 100)) == 50
    assert snap_frame_rate(Fraction(125, 10)) == 13
    assert snap_frame_rate(Fraction(120)) == 60
    assert snap_frame_rate(Fraction(1, 10)) == 1


def test_streams_are_picked_by_index() -> None:
    video = replace(HD, index=2)  # e.g. after a DVD navigation data stream
    graph = _build(_info(video))[_build(_info(video)).index("-filter_complex") + 1]
    assert graph.startswith("[0:2]setpts=PTS-STARTPTS[s0];[s0]scale=")
    assert "[0:1]aformat=" in graph


def test_sound_is_put_on_the_pictures_timeline() -> None:
    """An MPEG program stream: sound from 0.233 s, picture from 0.338 s for 0.901 s."""
    video = replace(HD, start_time=0.338, duration=0.901)
    info = _info(video)
    info = replace(info, audio=(replace(info.audio[0], start_time=0.233, duration=0.544),))
    assert sound_lead(info) == pytest.approx(0.105)
    chain = _filters(_build(info), "asetpts") + _filters(_build(info), "apad")
    chain += _filters(_build(info), "atrim")
    assert chain == [
        "asetpts=expr=PTS-STARTPTS-0.105000/TB",  # the sound before the first picture is cut
        "apad=whole_dur=0.901000",  # and it is padded or cut to the picture's length
        "atrim=end=0.901000",
    ]
    late = replace(info, audio=(replace(info.audio[0], start_time=0.5),))
    assert _filters(_build(late), "asetpts") == ["asetpts=expr=PTS-STARTPTS+0.162000/TB"]
    unknown = replace(info, video=(replace(video, start_time=None),))
    assert _filters(_build(unknown), "asetpts") == ["asetpts=expr=PTS-STARTPTS+0.000000/TB"]


def test_paths_with_spaces_and_chinese_are_single_arguments() -> None:
    argv = _build()
    assert SRC in argv


def test_refuses_nonsense() -> None:
    audio_only = replace(_info(), video=())
    with pytest.raises(InvalidMedia, match="no picture to transcode"):
        _plan(audio_only)
    with pytest.raises(ValueError, match="unique"):
        _plan(renditions=(R540, R540))
    with pytest.raises(ValueError, match="nothing to produce"):
        _build(renditions=())
