"""Station branding and open captions inside the one-decode graph (pure: builds, runs nothing).

A profile that asks for branding (``[profiles.X.branding]``, defaults in ``[branding]``)
gets its picture leg, after ``scale`` and before the encoder, passed through:

    leg -> [subtitles (libass, CJK font, pre-wrapped cues)] -> [overlay logo] -> encoder
                                      logo.png -> scale -> rgba -> alpha x opacity ^

and, when it asks for cards, the opening slate and the closing copyright card are drawn
(``color`` source + ``drawtext`` with a CJK font) and joined to the film with ``concat``,
the sound with silence of the same length.  Everything is in the same filter graph as the
ladder: the source is still decoded once; each branded leg costs one overlay (and one
libass render) at its own size.

Sizes are relative to the frame height, so one setting fits every rung: the logo is
``scale`` x height tall, ``margin`` x height from the two nearest edges; the caption font
is ``caption_size`` x height.  Captions are drawn first and the logo last, at a corner.
Every rung has the source's aspect, so one pre-wrapping of the cues (``wrap_vtt``) fits all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import ffmpeg

POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right")
CJK_FONT_NAME = "Noto Sans CJK SC"
CJK_FONT_FILE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
# libass lays out converted (SRT/WebVTT) subtitles on a 384x288 canvas scaled to the frame.
ASS_PLAY_HEIGHT = 288


@dataclass(frozen=True)
class LogoSpec:
    """A station logo (PNG with alpha) at a corner of the frame."""

    path: str
    position: str = "top-right"
    margin: float = 0.04  # x frame height, from the two nearest edges
    scale: float = 0.10  # logo height = scale x frame height
    opacity: float = 0.8  # multiplies the PNG's own alpha


@dataclass(frozen=True)
class CardSpec:
    """An opening slate or closing card: ``seconds`` of lines of text on a plain ground."""

    seconds: float
    lines: tuple[str, ...]
    background: str = "0x10243E"
    colour: str = "white"


@dataclass(frozen=True)
class Branding:
    """What a profile's output carries (None/empty: nothing)."""

    logo: LogoSpec | None = None
    captions: str | None = None  # language of the subtitles burned in (open captions)
    caption_size: float = 0.06  # x frame height
    slate: bool = False
    closing: bool = False
    slate_seconds: float = 4.0
    closing_seconds: float = 3.0
    closing_text: str = ""

    @property
    def empty(self) -> bool:
        return not (self.logo or self.captions or self.slate or self.closing)


@dataclass(frozen=True)
class BrandingInputs:
    """What a job knows and a profile cannot: files and words of this film.

    ``subtitles`` maps a language to a local subtitle file (WebVTT or SRT); ``slate_lines``
    are the opening slate's lines (programme, title, episode, date, centre); ``logo`` is an
    override of every profile's logo path (a county's or a release set's own logo).
    """

    subtitles: Mapping[str, str] = field(default_factory=dict)
    slate_lines: tuple[str, ...] = ()
    logo: str | None = None


def resolve(branding: Branding | None, inputs: BrandingInputs | None) -> Branding | None:
    """Return what this job's output of a profile really carries (overrides applied)."""
    if branding is None or branding.empty:
        return None
    inputs = inputs or BrandingInputs()
    logo = branding.logo
    if logo is not None and inputs.logo:
        logo = replace(logo, path=inputs.logo)
    if logo is not None and not logo.path:  # no site logo and no override
        logo = None
    captions = branding.captions if branding.captions in inputs.subtitles else None
    result = replace(branding, logo=logo, captions=captions)
    return None if result.empty else result


def logo_height(frame_height: int, logo: LogoSpec) -> int:
    """Return the logo's height in pixels on a frame ``frame_height`` tall (at least 2, even)."""
    return max(2, 2 * round(frame_height * logo.scale / 2))


def logo_margin(frame_height: int, logo: LogoSpec) -> int:
    """Return the margin in pixels from the frame's edges."""
    return round(frame_height * logo.margin)


def overlay_position(frame_height: int, logo: LogoSpec) -> tuple[str, str]:
    """Return the overlay filter's x and y expressions for ``logo`` on this frame."""
    m = logo_margin(frame_height, logo)
    x = f"{m}" if logo.position.endswith("left") else f"main_w-overlay_w-{m}"
    y = f"{m}" if logo.position.startswith("top") else f"main_h-overlay_h-{m}"
    return x, y


def caption_style(caption_size: float) -> str:
    """Return libass's force_style: the CJK font at ``caption_size`` x frame height."""
    size = max(8, round(ASS_PLAY_HEIGHT * caption_size))
    return (
        f"FontName={CJK_FONT_NAME},FontSize={size},PrimaryColour=&H00FFFFFF,"
        "OutlineColour=&H00000000,BorderStyle=1,Outline=2,Shadow=0,MarginV=12,WrapStyle=0"
    )


def wrap_cjk(text: str, width: int) -> str:
    """Break ``text`` into lines of at most ``width`` columns (a CJK character counts 2).

    libass wraps at spaces only, and Chinese has none; lines are broken between any two
    CJK characters, never before closing punctuation (，。！？、；：」』）》) nor after
    opening punctuation (「『（《), after the usual line-breaking rules of Chinese.
    """
    no_start = set("，。！？、；：」』）》”’…,.!?;:)")
    no_end = set("「『（《“‘(")
    out: list[str] = []
    for raw in text.split("\n"):
        line, cols = "", 0
        for ch in raw:
            w = 2 if ord(ch) > 0x2E7F else 1
            if cols + w > width and line and ch not in no_start:
                cut = len(line)
                while cut > 1 and line[cut - 1] in no_end:
                    cut -= 1
                out.append(line[:cut])
                line = line[cut:]
                cols = sum(2 if ord(c) > 0x2E7F else 1 for c in line)
            line += ch
            cols += w
        out.append(line)
    return "\n".join(out)


def caption_columns(frame_width: int, frame_height: int, caption_size: float) -> int:
    """Return how many half-width columns fit on a caption line (90 % of the width)."""
    font_px = frame_height * caption_size
    return max(8, math.floor(0.9 * frame_width / (font_px / 2)))


def burn_captions(leg: Any, subtitle_file: str, caption_size: float) -> Any:
    """Return ``leg`` with the cues of ``subtitle_file`` burned in (libass, CJK font)."""
    return leg.filter(
        "subtitles",
        filename=subtitle_file,
        fontsdir="/usr/share/fonts/opentype/noto",
        force_style=caption_style(caption_size),
        charenc="UTF-8",
    )


def overlay_logo(leg: Any, logo_input: Any, frame_height: int, logo: LogoSpec) -> Any:
    """Return ``leg`` with ``logo`` laid over it at its corner, at its opacity."""
    # Blend in the picture's own 4:2:0 (the logo converted once): ``format=auto`` would
    # blend every frame in a wider format and convert back, +18 % CPU for a 1080p output.
    mark = (
        logo_input.filter("scale", -2, logo_height(frame_height, logo))
        .filter("format", "rgba")
        .filter("colorchannelmixer", aa=f"{logo.opacity:g}")
        .filter("format", "yuva420p")
    )
    x, y = overlay_position(frame_height, logo)
    return ffmpeg.overlay(leg, mark, x=x, y=y, format="yuv420", eof_action="repeat")


def card(spec: CardSpec, width: int, height: int, rate: str, font_file: str = CJK_FONT_FILE) -> Any:
    """Return a ``spec.seconds`` picture of centred lines on a plain ground."""
    picture = ffmpeg.input(
        f"color=c={spec.background}:s={width}x{height}:r={rate}:d={spec.seconds:g}",
        format="lavfi",
    )["v"]
    size = max(10, round(height * 0.07))
    count = len(spec.lines)
    for i, line in enumerate(spec.lines):
        offset = (i - (count - 1) / 2) * size * 1.5
        picture = picture.filter(
            "drawtext",
            fontfile=font_file,
            text=line,
            expansion="none",
            fontsize=size,
            fontcolor=spec.colour,
            x="(w-text_w)/2",
            y=f"(h-text_h)/2+{offset:.0f}",
        )
    return picture.filter("setsar", "1").filter("format", "yuv420p")


def silence(seconds: float) -> Any:
    """Return ``seconds`` of 48 kHz stereo silence (the cards' sound)."""
    return ffmpeg.input(
        f"anullsrc=channel_layout=stereo:sample_rate=48000:d={seconds:g}", format="lavfi"
    )["a"]


def cards_of(branding: Branding, slate_lines: Sequence[str]) -> tuple[CardSpec | None, ...]:
    """Return the (slate, closing) cards the branding asks for (None where none)."""
    slate = (
        CardSpec(branding.slate_seconds, tuple(slate_lines))
        if branding.slate and slate_lines
        else None
    )
    closing = (
        CardSpec(branding.closing_seconds, tuple(branding.closing_text.split("\n")))
        if branding.closing and branding.closing_text
        else None
    )
    return slate, closing


def card_seconds(branding: Branding | None, inputs: BrandingInputs | None) -> float:
    """Return the seconds the opening slate and closing card add to an output of a profile
    with ``branding`` (0: none; a slate needs this film's slate lines)."""
    resolved = resolve(branding, inputs)
    if resolved is None:
        return 0.0
    slate, closing = cards_of(resolved, (inputs or BrandingInputs()).slate_lines)
    return sum(card.seconds for card in (slate, closing) if card is not None)


def brand_picture(
    leg: Any,
    branding: Branding,
    inputs: BrandingInputs,
    size: tuple[int, int],
    logo_input: Any | None,
) -> Any:
    """Return the picture ``leg`` (``size``) with captions and logo laid on it."""
    height = size[1]
    if branding.captions:  # the cue file is pre-wrapped by the job (see wrap_vtt)
        leg = burn_captions(leg, inputs.subtitles[branding.captions], branding.caption_size)
    if branding.logo and logo_input is not None:
        leg = overlay_logo(leg, logo_input, height, branding.logo)
    return leg


def with_cards(
    picture: Any, sound: Any, branding: Branding, inputs: BrandingInputs,
    size: tuple[int, int], rate: str,
) -> tuple[Any, Any]:  # fmt: skip
    """Return picture and sound with the slate before and the closing card after."""
    slate, closing = cards_of(branding, inputs.slate_lines)
    if not (slate or closing):
        return picture, sound
    parts: list[Any] = []
    for spec, film in ((slate, None), (None, (picture, sound)), (closing, None)):
        if film is not None:
            parts += list(film)
        elif spec is not None:
            parts += [card(spec, size[0], size[1], rate), silence(spec.seconds)]
    joined = ffmpeg.concat(*parts, v=1, a=1).node
    return joined[0], joined[1]


_VTT_TIME = r"(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})"
_VTT_TIMING = re.compile(rf"^\s*{_VTT_TIME}\s*-->\s*{_VTT_TIME}(.*)$")


def _vtt_seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def _vtt_stamp(value: float) -> str:
    ms = max(0, round(value * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def shift_vtt(text: str, offset: float, length: float) -> str:
    """Return the cues of WebVTT ``text`` seen in ``[offset, offset + length)`` of the film,
    timed from ``offset`` (a chunk of the segment-parallel ladder starts its clock at 0);
    a cue across a cut is cut with it, so each side shows its part."""
    out = ["WEBVTT", ""]
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = block.strip("\n").split("\n")
        at = next((i for i, line in enumerate(lines) if _VTT_TIMING.match(line)), None)
        if at is None:
            continue
        g = _VTT_TIMING.match(lines[at]).groups()  # type: ignore[union-attr]
        start = _vtt_seconds(*g[0:4]) - offset
        end = _vtt_seconds(*g[4:8]) - offset
        if end <= 0 or start >= length:
            continue
        timing = f"{_vtt_stamp(max(0.0, start))} --> {_vtt_stamp(min(end, length))}{g[8]}"
        out += [timing, *lines[at + 1 :], ""]
    return "\n".join(out)


def wrap_vtt(text: str, frame_width: int, frame_height: int, caption_size: float) -> str:
    """Return WebVTT ``text`` with every cue's long lines broken for this frame (see wrap_cjk)."""
    cols = caption_columns(frame_width, frame_height, caption_size)
    blocks = text.replace("\r\n", "\n").split("\n\n")
    out = []
    for block in blocks:
        lines = block.split("\n")
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            out.append(block)
            continue
        body = wrap_cjk("\n".join(lines[timing + 1 :]), cols)
        out.append("\n".join([*lines[: timing + 1], body]))
    return "\n\n".join(out)
