"""Thumbnails, sprite sheets, poster and the WebVTT track: plans, argv, text (no ffmpeg)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from mam.probe import MediaInfo, VideoStream
from workers.ffmpeg.hls import is_complete, parse_master, parse_media
from workers.ffmpeg.plan import plan_encode, thumbnail_frames
from workers.ffmpeg.specs import Mp4Rendition, PosterSpec, SpriteSpec, ThumbnailSpec
from workers.ffmpeg.stills import build_stills_command, sprite_layout, webvtt_thumbnails

SRC = "/in/源.mp4"
OUT = "/out"
VIDEO = VideoStream(
    index=0, codec="mpeg2video", profile=None, width=720, height=576, sar="64:45", dar="16:9",
    frame_rate="25/1", avg_frame_rate="25/1", field_order="tt", rotation=0, pix_fmt="yuv420p",
    bit_rate=None, frames=None,
)  # fmt: skip
INFO = MediaInfo("mpeg", "MPEG-PS", 100.0, 1, 1, (VIDEO,), (), 0)
PROXY = Mp4Rendition("proxy", 540, "1200k", None, None, "128k")


def _plan(duration: float = 100.0, **sprite: int):  # type: ignore[no-untyped-def]
    info = replace(INFO, duration=duration)
    return info, plan_encode(info, (PROXY,), poster=PosterSpec(),
                             sprite=SpriteSpec(**sprite))  # fmt: skip


def test_thumbnails_are_exact_evenly_spaced_frames_of_the_decode() -> None:
    info = replace(INFO, duration=100.0)
    plan = plan_encode(info, (PROXY,), thumbnails=ThumbnailSpec(count=4, max_height=180))
    assert plan.thumb_frames == (312, 937, 1562, 2187)  # 12.5 s, 37.5 s, ... at 25 fps
    assert plan.selected_thumb_frames == [0, 312, 937, 1562, 2187]
    assert plan.thumb_size == (320, 180)
    tiny = plan_encode(replace(INFO, duration=0.2), (PROXY,), thumbnails=ThumbnailSpec(count=4))
    assert tiny.thumb_frames == (0, 1, 3, 4) and tiny.selected_thumb_frames == [0, 1, 3, 4]
    assert thumbnail_frames(1.0, 10, Fraction(25))[-1] == 23


def test_stills_command_tiles_the_cells_and_picks_the_poster() -> None:
    _info, plan = _plan()
    layout = sprite_layout(plan, 100)
    argv = build_stills_command(OUT, plan, layout=layout, candidates=30)
    assert argv is not None
    assert argv.count("-i") == 2  # the little JPEGs only, never the source again
    graph = argv[argv.index("-filter_complex") + 1]
    assert "tile=10x10" in graph
    assert f"{OUT}/sprite-cells/%05d.jpg" in argv and f"{OUT}/thumbs/sprite-%03d.jpg" in argv
    # Poster: candidates from number 2 (number 1 is the first frame), blank ones dropped,
    # the thumbnail filter picks among the rest.
    start = argv.index(f"{OUT}/poster-candidates/%03d.jpg")
    assert argv[start - 3 : start - 1] == ["-start_number", "2"]
    assert ("metadata=function=greater:key=lavfi.entropy.normalized_entropy.normal.Y:"
            "mode=select:value=0.25") in graph  # fmt: skip
    assert "thumbnail=n=30" in graph
    assert argv[-1] == f"{OUT}/thumbs/poster.jpg"


def test_nothing_to_do() -> None:
    _info, plan = _plan()
    plan = replace(plan, poster=None)
    assert build_stills_command(OUT, plan, layout=None, candidates=0) is None


def test_sprite_layout_shrinks_a_single_sheet() -> None:
    _info, plan = _plan()
    assert plan.cell_size == (160, 90) and plan.sprite_interval == 1.0
    few = sprite_layout(plan, 7)
    assert few is not None and (few.columns, few.rows, few.sheets) == (7, 1, 1)
    some = sprite_layout(plan, 23)
    assert some is not None and (some.columns, some.rows, some.sheets) == (10, 3, 1)
    many = sprite_layout(plan, 250)
    assert many is not None and (many.columns, many.rows, many.sheets) == (10, 10, 3)
    assert sprite_layout(plan, 0) is None


def test_webvtt_points_each_cue_at_its_cell() -> None:
    _info, plan = _plan(duration=205.0, max_cells=100)
    assert plan.sprite_interval == 3.0
    layout = sprite_layout(plan, 69)
    assert layout is not None
    layout = replace(layout, columns=5, rows=2)  # 10 cells a sheet
    text = webvtt_thumbnails(layout, 205.0)
    assert text.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:03.000\n"
                           "sprite-001.jpg#xywh=0,0,160,90")  # fmt: skip
    cues = text.strip().split("\n\n")[1:]
    assert len(cues) == 69
    assert cues[6] == "00:00:18.000 --> 00:00:21.000\nsprite-001.jpg#xywh=160,90,160,90"
    assert cues[10] == "00:00:30.000 --> 00:00:33.000\nsprite-002.jpg#xywh=0,0,160,90"
    assert cues[-1] == "00:03:24.000 --> 00:03:25.000\nsprite-007.jpg#xywh=480,90,160,90"


MASTER = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-STREAM-INF:BANDWIDTH=6868000,RESOLUTION=1920x1080,CODECS="avc1.640028,mp4a.40.2"
1080p/index.m3u8

#EXT-X-STREAM-INF:BANDWIDTH=940800,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2"
360p/index.m3u8
"""
MEDIA = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:6
#EXT-X-PLAYLIST-TYPE:VOD
#EXTINF:6.000000,
seg_00000.ts
#EXTINF:1.520000,
seg_00001.ts
#EXT-X-ENDLIST
"""


def test_hls_playlists_are_read() -> None:
    top, low = parse_master(MASTER)
    assert (top.uri, top.bandwidth, top.width, top.height) == ("1080p/index.m3u8", 6868000,
                                                               1920, 1080)  # fmt: skip
    assert low.codecs == "avc1.4d401e,mp4a.40.2"
    segments = parse_media(MEDIA)
    assert [(s.uri, s.duration) for s in segments] == [("seg_00000.ts", 6.0),
                                                        ("seg_00001.ts", 1.52)]  # fmt: skip
    assert is_complete(MEDIA) and not is_complete(MEDIA.replace("#EXT-X-ENDLIST", ""))
