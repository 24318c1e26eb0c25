"""QC of durations, streams and sound against picture, and what blocks publication (pure).

Outputs are held to the source's picture (or, when nearer, its presentation span from
the earliest start to the latest end of picture and sound): a frame and an audio packet
apart is fine, more is a warning, a gross difference (``gross_seconds``) means the source
is damaged and nothing is published. ``sound_edge_findings`` says where the source's
sound began or ended away from its picture and what the outputs did about it (see
``workers.ffmpeg.normalise``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mam.i18n import render_value
from mam.messages import qc
from workers.qc_findings import finding, said

BLOCKING = ("duration", "streams")
# An output's length may differ from the source's by a frame and an audio packet (AAC,
# 1024 samples at 48 kHz) without comment; more is a warning; a gross difference, more
# than GROSS_SHARE of the film but at least GROSS_MIN and at most GROSS_MAX seconds,
# means the source is damaged and blocks publication.
AUDIO_FRAME = 1024 / 48000
GROSS_SHARE = 0.01
GROSS_MIN = 0.5
GROSS_MAX = 5.0
# Sound before or after the picture (left out or filled with silence): a note up to
# this many seconds, a warning beyond.
SOUND_EDGE_NOTE = 1.0


def gross_seconds(duration: float) -> float:
    """Return the length difference beyond which an output is unfit (see GROSS_*)."""
    return min(GROSS_MAX, max(GROSS_MIN, GROSS_SHARE * duration))


@dataclass(frozen=True)
class SourceSpan:
    """Where the source's picture and sound start and end (seconds, from the probe)."""

    picture_start: float
    picture_end: float
    sound_start: float | None = None
    sound_end: float | None = None

    @property
    def picture(self) -> float:
        """Return the picture's length."""
        return self.picture_end - self.picture_start

    @property
    def presentation(self) -> float:
        """Return the presentation span: the earliest start to the latest end."""
        if self.sound_start is None or self.sound_end is None:
            return self.picture
        return max(self.picture_end, self.sound_end) - min(self.picture_start, self.sound_start)


@dataclass(frozen=True)
class OutputCheck:
    """What probing one finished output found."""

    profile: str
    duration: float
    has_video: bool
    has_audio: bool
    width: int | None = None
    height: int | None = None
    # Seconds of opening slate and closing card the output carries besides the film.
    cards: float = 0.0


def duration_reference(actual: float, duration: float, span: SourceSpan | None) -> float:
    """Return the length an output is held to: the source's picture, or its presentation
    span (from the earliest start to the latest end) when that is nearer."""
    if span is None:
        return duration
    return min((duration, span.presentation), key=lambda ref: abs(actual - ref))


def expected_duration(out: OutputCheck, duration: float, span: SourceSpan | None) -> float:
    """Return the length ``out`` should have: the film's (``duration_reference``) plus its
    slate and closing card."""
    return duration_reference(out.duration - out.cards, duration, span) + out.cards


def output_findings(
    outputs: Sequence[OutputCheck], duration: float, frame: float, span: SourceSpan | None
) -> list[dict[str, Any]]:
    items = []
    tolerance = frame + AUDIO_FRAME
    for out in outputs:
        if not (out.has_video and out.has_audio):
            template = qc.OUTPUT_NO_VIDEO if not out.has_video else qc.OUTPUT_NO_AUDIO
            items.append(
                finding("streams", "error", template, {"output": out.profile}, output=out.profile)
            )
        expected = expected_duration(out, duration, span)
        delta = out.duration - expected
        if abs(delta) <= tolerance:
            continue
        gross = abs(delta) > gross_seconds(expected)
        template = qc.DURATION_GROSS if gross else qc.DURATION_OFF
        items.append(
            finding(
                "duration",
                "error" if gross else "warning",
                template,
                {
                    "output": out.profile,
                    "actual": out.duration,
                    "expected": expected,
                    "delta": delta,
                },
                output=out.profile,
                start=min(out.duration, expected),
                end=expected,
                expected=expected,
                actual=out.duration,
            )
        )
    return items


def sound_edge_findings(span: SourceSpan | None, frame: float) -> list[dict[str, Any]]:
    """Say where the source's sound began or ended away from its picture, and what the
    outputs did about it (see ``workers.ffmpeg.normalise``)."""
    if span is None or span.sound_start is None or span.sound_end is None:
        return []
    tolerance = frame + AUDIO_FRAME
    items = []
    edges = (
        (span.picture_start - span.sound_start, qc.SOUND_EARLY, qc.SOUND_LATE, 0.0),
        (span.sound_end - span.picture_end, qc.SOUND_PAST_END, qc.SOUND_ENDS_EARLY, span.picture),
    )  # fmt: skip
    for gap, longer, shorter, at in edges:
        if abs(gap) <= tolerance:
            continue
        items.append(
            finding(
                "sync",
                "info" if abs(gap) <= SOUND_EDGE_NOTE else "warning",
                longer if gap > 0 else shorter,
                {"seconds": abs(gap)},
                start=at,
                seconds=abs(gap),
            )
        )
    return items


def blocking_errors(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the error findings that make the outputs unfit to publish."""
    return [f for f in report["findings"] if f["severity"] == "error" and f["check"] in BLOCKING]


_LENGTH_TEMPLATES = {
    ("every", "shorter"): qc.EVERY_SHORTER,
    ("every", "longer"): qc.EVERY_LONGER,
    ("one", "shorter"): qc.ONE_SHORTER,
    ("one", "longer"): qc.ONE_LONGER,
    ("some", "shorter"): qc.SOME_SHORTER,
    ("some", "longer"): qc.SOME_LONGER,
}


def failure_parts(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Return why the outputs were not published, as templates with their parameters."""
    blocking = blocking_errors(report)
    parts: list[dict[str, Any]] = []
    durations = [f for f in blocking if f["check"] == "duration"]
    if durations:
        first = durations[0]
        every = len(durations) == len(report["outputs"])
        how = "every" if every else "one" if len(durations) == 1 else "some"
        way = "shorter" if first["actual"] < first["expected"] else "longer"
        params = {"actual": first["actual"], "expected": first["expected"]}
        if not every:
            params["outputs"] = ", ".join(f["output"] for f in durations)
        parts.append(said(_LENGTH_TEMPLATES[how, way], params))
    parts += [
        {
            "code": f.get("code"),
            "template": f.get("template", f["message"]),
            "params": f.get("params", {}),
        }
        for f in blocking
        if f["check"] != "duration"
    ]
    parts += [
        said(qc.DECODE_COUNT, {"count": f["count"]})
        for f in report["findings"]
        if f["check"] == "decode"
    ]
    return parts


def failure_reason(report: dict[str, Any]) -> str:
    """Return one line (English) saying why the outputs were not published."""
    return "QC: " + str(render_value(failure_parts(report), str))
