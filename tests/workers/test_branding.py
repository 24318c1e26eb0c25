"""Station branding and open captions: the filter chain as text, then real ffmpeg output.

The pixel tests run the one-decode command on a flat grey 320x180 clip with a red logo
and sample the decoded frames: expectations are colours and places written here, from the
profile's numbers, not read back from the code under test.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mam.probe import probe
from workers.ffmpeg.branding import (
    Branding,
    BrandingInputs,
    LogoSpec,
    caption_style,
    logo_height,
    overlay_position,
    resolve,
    wrap_cjk,
    wrap_vtt,
)
from workers.ffmpeg.commands import build_process_command
from workers.ffmpeg.plan import plan_encode
from workers.ffmpeg.specs import HlsRendition, HlsRung, Mp4Rendition
from workers.profiles import ProfileError, load_profiles

GREY = 64  # the clip's picture: (64, 64, 64)
W, H = 320, 180


def _ffmpeg(*args: str) -> None:
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    subprocess.run(argv, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def files(media_dir: Path) -> dict[str, Path]:
    folder = media_dir / "branding"
    folder.mkdir(exist_ok=True)
    flat, logo, cue = folder / "flat.mp4", folder / "logo.png", folder / "cue.vtt"
    _ffmpeg("-f", "lavfi", "-i", f"color=c=0x404040:s={W}x{H}:r=25:d=3",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
            "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv444p",
            "-c:a", "aac", "-shortest", str(flat))  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x32,format=rgba", "-frames:v", "1", str(logo))
    long = "这是一段很长的中文字幕用来检查自动换行是否正确没有空格的句子也能折行显示"
    cue.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n县级电教中心\n\n"
        f"00:00:02.300 --> 00:00:03.000\n{long}\n",
        encoding="utf-8",
    )
    return {"flat": flat, "logo": logo, "cue": cue}


def frame(path: Path, seconds: float) -> bytes:
    """Return the RGB24 picture shown at ``seconds``."""
    argv = ["ffmpeg", "-v", "error", "-ss", f"{seconds}", "-i", str(path), "-frames:v", "1",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]  # fmt: skip
    data = subprocess.run(argv, check=True, capture_output=True, timeout=60).stdout
    assert len(data) == W * H * 3
    return data


def pixel(data: bytes, x: int, y: int) -> tuple[int, int, int]:
    i = (y * W + x) * 3
    return data[i], data[i + 1], data[i + 2]


def close(got: tuple[int, int, int], want: tuple[int, int, int], tol: int = 12) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(got, want, strict=True))


def bright(data: bytes, rows: range) -> list[tuple[int, int]]:
    """Return the (x, y) of light pixels in ``rows`` (burned-in text is white; the clip is
    dark grey, so 150 and above is text, whatever 4:2:0 does to thin strokes)."""
    return [(x, y) for y in rows for x in range(W) if min(pixel(data, x, y)) > 150]


def encode(files: dict[str, Path], out: Path, branding: Branding, **inputs: object) -> Path:
    info = probe(files["flat"])
    spec = Mp4Rendition("playback", H, "800k", None, None, "96k", crf=4, branding=branding)
    plan = plan_encode(info, [spec])
    given = BrandingInputs(**inputs)  # type: ignore[arg-type]
    argv = build_process_command(str(files["flat"]), info, str(out), plan, branding=given)
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    return out / "playback.mp4"


# -- pure -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "height", "expected"),
    [
        ("top-right", 180, ("main_w-overlay_w-9", "9")),
        ("top-left", 1080, ("54", "54")),
        ("bottom-left", 720, ("36", "main_h-overlay_h-36")),
        ("bottom-right", 360, ("main_w-overlay_w-18", "main_h-overlay_h-18")),
    ],
)
def test_overlay_position_from_the_frame_height(
    position: str, height: int, expected: tuple[str, str]
) -> None:
    assert overlay_position(height, LogoSpec("l.png", position, margin=0.05)) == expected


@pytest.mark.parametrize(("height", "px"), [(1080, 108), (720, 72), (360, 36), (180, 18)])
def test_logo_height_is_a_fraction_of_the_frame(height: int, px: int) -> None:
    assert logo_height(height, LogoSpec("l.png", scale=0.1)) == px


def test_caption_style_uses_the_cjk_font_on_libass_canvas() -> None:
    assert caption_style(0.06).startswith("FontName=Noto Sans CJK SC,FontSize=17,")


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("一二三四五六七八九十", 8, ["一二三四", "五六七八", "九十"]),
        ("一二三，四五六", 6, ["一二三，", "四五六"]),  # no line starts with ，
        ("一二「三四", 6, ["一二", "「三四"]),  # no line ends with 「
        ("short", 8, ["short"]),
        ("abc 一二三", 6, ["abc 一", "二三"]),
    ],
)
def test_wrap_cjk_breaks_between_characters(text: str, width: int, lines: list[str]) -> None:
    assert wrap_cjk(text, width).split("\n") == lines


def test_wrap_vtt_keeps_timings() -> None:
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n" + "中" * 40 + "\n"
    # 0.9 x 320 / (10.8 / 2) = 53 half-width columns: 26 Chinese characters a line.
    wrapped = wrap_vtt(text, 320, 180, 0.06)
    assert wrapped.split("\n")[:3] == ["WEBVTT", "", "00:00:01.000 --> 00:00:02.000"]
    assert wrapped.split("\n")[3:] == ["中" * 26, "中" * 14, ""]


def test_resolve_drops_captions_without_a_file_and_applies_the_logo_override() -> None:
    b = Branding(logo=LogoSpec("site.png"), captions="zh")
    got = resolve(b, BrandingInputs(logo="/county/7.png"))
    assert got == Branding(logo=LogoSpec("/county/7.png"), captions=None)
    assert resolve(Branding(captions="zh"), BrandingInputs()) is None
    assert resolve(None, BrandingInputs(logo="x.png")) is None


def test_graph_text_of_a_branded_ladder(files: dict[str, Path]) -> None:
    info = probe(files["flat"])
    logo = LogoSpec(str(files["logo"]), "top-right", margin=0.05, scale=0.2, opacity=0.5)
    ladder = HlsRendition(
        "web",
        (HlsRung(180, "300k", None, None), HlsRung(90, "100k", None, None)),
        branding=Branding(logo=logo),
    )
    plain = Mp4Rendition("proxy", 180, "500k", None, None, "96k")
    argv = build_process_command("in.mp4", info, "/o", plan_encode(info, [ladder, plain]))
    graph = argv[argv.index("-filter_complex") + 1]
    assert f"-i {files['logo']}" in " ".join(argv)
    assert "[1:v]split=2[" in graph  # one logo input, split per rung
    # One overlay per rung, each at its own size: 36 px logo 9 px in at 180p, 18/4 at 90p.
    assert "scale=-2:36" in graph and "scale=-2:18" in graph
    assert "overlay=eof_action=repeat:format=yuv420:x=main_w-overlay_w-9:y=9" in graph
    assert "overlay=eof_action=repeat:format=yuv420:x=main_w-overlay_w-4:y=4" in graph
    assert graph.count("colorchannelmixer=aa=0.5") == 2
    assert graph.count("overlay=") == 2  # the proxy stays plain


# -- real ffmpeg ----------------------------------------------------------------------


@pytest.mark.slow
def test_logo_pixels_are_where_the_profile_says(files: dict[str, Path], tmp_path: Path) -> None:
    logo = LogoSpec(str(files["logo"]), "top-right", margin=0.05, scale=0.2, opacity=0.5)
    data = frame(encode(files, tmp_path, Branding(logo=logo)), 1.0)
    # 36 px tall, 72 px wide, 9 px from the top and right: x 239..310, y 9..44.
    half_red = (160, 32, 32)  # 0.5 x (255, 0, 0) + 0.5 x (64, 64, 64)
    for x, y in [(242, 12), (275, 26), (307, 41)]:
        assert close(pixel(data, x, y), half_red, 16), (x, y, pixel(data, x, y))
    for x, y in [(234, 26), (315, 26), (275, 4), (275, 50), (20, 20), (160, 160), (275, 170)]:
        assert close(pixel(data, x, y), (GREY, GREY, GREY), 6), (x, y, pixel(data, x, y))


@pytest.mark.slow
def test_burned_captions_show_during_the_cue_only(files: dict[str, Path], tmp_path: Path) -> None:
    wrapped = tmp_path / "cue.vtt"
    wrapped.write_text(wrap_vtt(files["cue"].read_text("utf-8"), W, H, 0.06), "utf-8")
    out = encode(files, tmp_path, Branding(captions="zh"), subtitles={"zh": str(wrapped)})
    bottom = range(H // 2, H)
    assert bright(frame(out, 0.5), bottom) == []
    during = bright(frame(out, 1.5), bottom)
    assert len(during) > 30
    xs = [x for x, _ in during]
    assert W * 0.25 < sum(xs) / len(xs) < W * 0.75  # centred
    assert bright(frame(out, 2.15), bottom) == []
    # The long Chinese line is broken into lines that stay inside the picture.
    long = bright(frame(out, 2.6), range(0, H))
    assert min(x for x, _ in long) > 4 and max(x for x, _ in long) < W - 4
    one_line = max(y for _, y in during) - min(y for _, y in during)
    assert max(y for _, y in long) - min(y for _, y in long) > 1.5 * one_line  # two lines


@pytest.mark.slow
def test_slate_and_closing_card_frame_the_film(files: dict[str, Path], tmp_path: Path) -> None:
    b = Branding(slate=True, closing=True, slate_seconds=1.0, closing_seconds=1.0,
                 closing_text="版权所有 © 2026\n某县电教中心")  # fmt: skip
    out = encode(files, tmp_path, b, slate_lines=("时代风采", "第1集 乡村振兴", "2026-12-01"))
    assert probe(out).duration == pytest.approx(5.0, abs=0.1)
    first, film, last = frame(out, 0.0), frame(out, 2.0), frame(out, 4.5)
    ground = (0x10, 0x24, 0x3E)
    assert close(pixel(first, 5, 5), ground, 8) and close(pixel(last, 5, 5), ground, 8)
    assert bright(first, range(0, H))  # the slate's lines
    assert close(pixel(film, 5, 5), (GREY, GREY, GREY), 6) and not bright(film, range(0, H))
    # The slate is silent; the film's tone is not.
    levels = []
    for start in (0.1, 2.0):
        argv = ["ffmpeg", "-v", "info", "-hide_banner", "-ss", f"{start}", "-t", "0.8",
                "-i", str(out), "-af", "volumedetect", "-vn", "-f", "null", "-"]  # fmt: skip
        log = subprocess.run(argv, capture_output=True, text=True, check=True).stderr
        levels.append(float(log.split("max_volume:")[1].split("dB")[0]))
    assert levels[0] < -80 and levels[1] > -30


# -- the profiles file ----------------------------------------------------------------

PROXY = '[profiles.proxy]\nkind = "mp4"\nmax_height = 540\nvideo_bitrate = "1200k"\n'
PROXY += 'audio_bitrate = "128k"\n'


def test_profiles_file_branding_with_site_defaults(tmp_path: Path) -> None:
    (tmp_path / "logos").mkdir()
    (tmp_path / "logos" / "station.png").write_bytes(b"png")
    path = tmp_path / "p.toml"
    path.write_text(
        '[branding]\nlogo = "logos/station.png"\nposition = "bottom-left"\nopacity = 0.6\n'
        'closing_text = "版权所有"\n\n' + PROXY
        + 'branding = { logo = true, captions = "zh", scale = 0.2, slate = true, '
        "closing = true }\n",
        encoding="utf-8",
    )  # fmt: skip
    proxy = load_profiles(path).rendition("proxy")
    assert proxy.branding == Branding(
        logo=LogoSpec(str(tmp_path / "logos" / "station.png"), "bottom-left", 0.04, 0.2, 0.6),
        captions="zh",
        slate=True,
        closing=True,
        closing_text="版权所有",
    )


def test_shipped_profiles_brand_broadcast_and_caption_playback() -> None:
    profiles = load_profiles()
    assert profiles.rendition("broadcast").branding == Branding(logo=LogoSpec(""))
    assert profiles.rendition("playback").branding == Branding(captions="zh")
    assert [profiles.rendition(n).branding for n in ("web", "mobile", "proxy")] == [None] * 3
    # No site logo: the broadcast carries a county's or release set's logo, or nothing.
    assert resolve(profiles.rendition("broadcast").branding, BrandingInputs()) is None


@pytest.mark.parametrize(
    ("site", "profile", "expected"),
    [
        ("", "branding = { opacity = 2.0 }", "profiles.proxy.branding.opacity: must be between"),
        ("", 'branding = { position = "middle" }', "branding.position: must be one of"),
        ("", "branding = { closing = true }", "profiles.proxy.branding.closing: no closing text"),
        ("", 'branding = { captions = "../x" }', "profiles.proxy.branding.captions: expected"),
        ("", "branding = { logos = true }", "profiles.proxy.branding.logos: unknown setting"),
        ('[branding]\nlogo = "missing.png"\n', "", "branding.logo: no such file"),
    ],
)
def test_bad_branding_names_the_key(tmp_path: Path, site: str, profile: str, expected: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(site + "\n" + PROXY + profile + "\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=expected.replace(".", r"\.")):
        load_profiles(path)


@pytest.mark.slow
def test_slate_text_is_drawn_literally_whatever_it_holds(tmp_path: Path) -> None:
    import ffmpeg

    from workers.ffmpeg.branding import CardSpec, card

    hostile = ("a:b'c\\d,e;[f] 100% {x}=y %{pts}", "《第1集》")
    picture = card(CardSpec(0.2, hostile), W, H, "25")
    argv = ffmpeg.output(picture, str(tmp_path / "card.mp4"), vframes=1).compile()
    subprocess.run(argv, check=True, capture_output=True, timeout=60)
    data = frame(tmp_path / "card.mp4", 0.0)
    assert bright(data, range(0, H // 2))  # the first line, above the middle
    assert bright(data, range(H // 2, H))  # the second
