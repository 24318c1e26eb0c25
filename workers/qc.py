"""The QC report of a version (pure): findings with timecodes and a severity each.

Severities: ``info`` (worth knowing, e.g. a fade to black at the end), ``warning``
(a reviewer should look: black, silence or a frozen picture inside the programme,
loudness off target, an output whose length differs from the source's by more than a
frame and an audio packet) and ``error`` (the result is damaged: decode errors, an
output grossly shorter or longer than the source, a missing stream).

Every finding keeps its English ``message`` and, for pages, the ``template`` (marked
with ``N_``) and ``params`` it was made from, so it is shown in the reader's language.

The verdict is ``fail`` with any error, ``warn`` with any warning, else ``pass``.
Errors that make the outputs unusable (``blocking``: wrong duration, missing stream)
stop publication; other errors (decode errors with a complete result) are published
with a failing QC verdict, which blocks approval until someone waives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mam.i18n import N_
from workers.ffmpeg.analysis import LoudnessMeasurement, Segment
from workers.ffmpeg.logs import LogLine
from workers.ffmpeg.specs import Loudness, QcSpec

REPORT_VERSION = 1
EDGE_SECONDS = 5.0  # black or silence this close to the start or end is a fade or leader
MOSTLY = 0.9  # a finding covering this share of the programme is more than a detail
MAX_DECODE_SAMPLES = 10
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


@dataclass(frozen=True)
class LoudnessResult:
    """The outcome of one loudness target: its profiles and what pass 2 measured."""

    target: Loudness
    profiles: tuple[str, ...]
    measured: LoudnessMeasurement | None

    def to_dict(self) -> dict[str, Any]:
        measured = self.measured.to_dict() if self.measured else {}
        return {
            "target": {
                "integrated": self.target.integrated,
                "true_peak": self.target.true_peak,
                "lra": self.target.lra,
            },
            "profiles": list(self.profiles),
            **{k: measured.get(k) for k in ("integrated", "true_peak", "lra", "normalization")},
        }


def _round(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def _finding(
    check: str,
    severity: str,
    template: str,
    params: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return one finding: English message, its template and parameters, and data."""
    params = {k: _round(v) for k, v in (params or {}).items()}
    item: dict[str, Any] = {
        "check": check,
        "severity": severity,
        "message": template % params if params else template,
        "template": template,
        "params": params,
    }
    item.update({k: _round(v) for k, v in extra.items()})
    return item


SEGMENT_TEMPLATES = {
    "black": N_("black picture from %(start)s to %(end)s (%(seconds).1f s)"),
    "freeze": N_("frozen picture from %(start)s to %(end)s (%(seconds).1f s)"),
    "silence": N_("silence from %(start)s to %(end)s (%(seconds).1f s)"),
}
LOUDNESS_TEMPLATES = {
    "linear": N_(
        "%(profiles)s: %(integrated).1f LUFS, true peak %(true_peak).1f dBTP "
        "(target %(target)s, linear normalisation)"
    ),
    "dynamic": N_(
        "%(profiles)s: %(integrated).1f LUFS, true peak %(true_peak).1f dBTP "
        "(target %(target)s, dynamic normalisation)"
    ),
    None: N_(
        "%(profiles)s: %(integrated).1f LUFS, true peak %(true_peak).1f dBTP "
        "(target %(target)s, no normalisation)"
    ),
}


def timecode(seconds: float) -> str:
    """Return H:MM:SS.mmm."""
    millis = round(max(seconds, 0.0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours}:{minutes:02d}:{millis / 1000:06.3f}"


def _segments(
    check: str, found: Sequence[Segment], duration: float, *, worst: str
) -> list[dict[str, Any]]:
    """Classify black, silent or frozen stretches by where they are and how long."""
    items = []
    for seg in found:
        at_edge = seg.start <= EDGE_SECONDS or seg.end >= duration - EDGE_SECONDS
        if duration and seg.duration >= MOSTLY * duration:
            severity = worst
        elif at_edge and seg.duration <= EDGE_SECONDS:
            severity = "info"
        else:
            severity = "warning"
        items.append(
            _finding(
                check,
                severity,
                SEGMENT_TEMPLATES[check],
                {
                    "start": timecode(seg.start),
                    "end": timecode(seg.end),
                    "seconds": seg.duration,
                },
                start=seg.start,
                end=seg.end,
                duration=seg.duration,
            )
        )
    return items


def _loudness(
    results: Sequence[LoudnessResult], source: LoudnessMeasurement | None, tolerance: float
) -> list[dict[str, Any]]:
    items = []
    if source is not None and source.is_silent:
        items.append(
            _finding(
                "loudness",
                "warning",
                N_("the sound is silent (or too short to measure); it was not normalised"),
            )
        )
        return items
    for result in results:
        m, t = result.measured, result.target
        profiles = ", ".join(result.profiles)
        if m is None:
            items.append(
                _finding(
                    "loudness",
                    "warning",
                    N_("no loudness figure for %(profiles)s"),
                    {"profiles": profiles},
                    profiles=profiles,
                )
            )
            continue
        off = abs(m.integrated - t.integrated)
        peak_over = m.true_peak - t.true_peak
        ok = off <= tolerance and peak_over <= 0.5
        items.append(
            _finding(
                "loudness",
                "info" if ok else "warning",
                LOUDNESS_TEMPLATES.get(m.normalization, LOUDNESS_TEMPLATES[None]),
                {
                    "profiles": profiles,
                    "integrated": m.integrated,
                    "true_peak": m.true_peak,
                    "target": t.label,
                },
                profiles=profiles,
                integrated=m.integrated,
                true_peak=m.true_peak,
                target=t.integrated,
                target_true_peak=t.true_peak,
            )
        )
    return items


def duration_reference(actual: float, duration: float, span: SourceSpan | None) -> float:
    """Return the length an output is held to: the source's picture, or its presentation
    span (from the earliest start to the latest end) when that is nearer."""
    if span is None:
        return duration
    return min((duration, span.presentation), key=lambda ref: abs(actual - ref))


def _outputs(
    outputs: Sequence[OutputCheck], duration: float, frame: float, span: SourceSpan | None
) -> list[dict[str, Any]]:
    items = []
    tolerance = frame + AUDIO_FRAME
    for out in outputs:
        if not (out.has_video and out.has_audio):
            template = (
                N_("%(output)s has no video stream")
                if not out.has_video
                else N_("%(output)s has no audio stream")
            )
            items.append(
                _finding("streams", "error", template, {"output": out.profile}, output=out.profile)
            )
        expected = duration_reference(out.duration, duration, span)
        delta = out.duration - expected
        if abs(delta) <= tolerance:
            continue
        gross = abs(delta) > gross_seconds(expected)
        template = (
            N_(
                "%(output)s lasts %(actual).3f s but the source %(expected).3f s "
                "(%(delta)+.3f s); the source may be damaged"
            )
            if gross
            else N_(
                "%(output)s lasts %(actual).3f s, the source %(expected).3f s "
                "(%(delta)+.3f s, more than a frame)"
            )
        )
        items.append(
            _finding(
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


def _sound_edges(span: SourceSpan | None, frame: float) -> list[dict[str, Any]]:
    """Say where the source's sound began or ended away from its picture, and what the
    outputs did about it (see ``workers.ffmpeg.normalise``)."""
    if span is None or span.sound_start is None or span.sound_end is None:
        return []
    tolerance = frame + AUDIO_FRAME
    items = []
    edges = (
        (span.picture_start - span.sound_start,
         N_("the sound starts %(seconds).3f s before the picture; the outputs start with "
            "the first picture"),
         N_("the sound starts %(seconds).3f s after the picture; silence fills the gap"),
         0.0),
        (span.sound_end - span.picture_end,
         N_("the sound runs %(seconds).3f s past the picture; that part is left out"),
         N_("the sound ends %(seconds).3f s before the picture; silence fills the rest"),
         span.picture),
    )  # fmt: skip
    for gap, longer, shorter, at in edges:
        if abs(gap) <= tolerance:
            continue
        items.append(
            _finding(
                "sync",
                "info" if abs(gap) <= SOUND_EDGE_NOTE else "warning",
                longer if gap > 0 else shorter,
                {"seconds": abs(gap)},
                start=at,
                seconds=abs(gap),
            )
        )
    return items


def build_report(
    *,
    duration: float,
    frame_seconds: float,
    source_has_audio: bool,
    outputs: Sequence[OutputCheck],
    black: Sequence[Segment],
    freezes: Sequence[Segment],
    silences: Sequence[Segment],
    decode_errors: Sequence[LogLine],
    decode_error_count: int,
    source_loudness: LoudnessMeasurement | None,
    loudness: Sequence[LoudnessResult],
    spec: QcSpec,
    span: SourceSpan | None = None,
) -> dict[str, Any]:
    """Return the QC report (JSON-able) of one processing run.

    ``duration`` is the source's picture; ``span`` (from the probe) tells where its
    picture and sound start and end.
    """
    findings = _outputs(outputs, duration, frame_seconds, span)
    findings += _sound_edges(span, frame_seconds)
    if decode_error_count:
        first = decode_errors[0] if decode_errors else None
        findings.append(
            _finding(
                "decode",
                "error",
                N_(
                    "%(count)d error(s) reading or decoding the source, the first near %(at)s: "
                    "%(text)s"
                )
                if first
                else N_("%(count)d error(s) reading or decoding the source"),
                {"count": decode_error_count}
                | ({"at": timecode(first.at), "text": first.text} if first else {}),
                start=first.at if first else None,
                count=decode_error_count,
                samples=[
                    {"at": round(e.at, 3), "text": e.text}
                    for e in decode_errors[:MAX_DECODE_SAMPLES]
                ],
            )
        )
    if not source_has_audio:
        findings.append(
            _finding(
                "streams",
                "warning",
                N_("the source has no sound; a silent stereo track was added"),
            )
        )
    findings += _segments("black", black, duration, worst="error")
    findings += _segments("freeze", freezes, duration, worst="warning")
    if source_has_audio:
        findings += _segments("silence", silences, duration, worst="warning")
        findings += _loudness(loudness, source_loudness, spec.loudness_tolerance)
    order = {"error": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: (order[f["severity"]], f.get("start") or 0.0))
    errors = sum(f["severity"] == "error" for f in findings)
    warnings = sum(f["severity"] == "warning" for f in findings)
    return {
        "version": REPORT_VERSION,
        "verdict": "fail" if errors else "warn" if warnings else "pass",
        "errors": errors,
        "warnings": warnings,
        "duration": round(duration, 3),
        "frame_seconds": round(frame_seconds, 6),
        "presentation": round(span.presentation, 3) if span else None,
        "outputs": [
            {
                "profile": o.profile,
                "duration": round(o.duration, 3),
                "video": o.has_video,
                "audio": o.has_audio,
                "width": o.width,
                "height": o.height,
                "duration_ok": abs(o.duration - duration_reference(o.duration, duration, span))
                <= frame_seconds + AUDIO_FRAME,
            }
            for o in outputs
        ],
        "loudness": {
            "source": source_loudness.to_dict() if source_loudness else None,
            "results": [r.to_dict() for r in loudness],
        },
        "findings": findings,
    }


def blocking_errors(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the error findings that make the outputs unfit to publish."""
    return [f for f in report["findings"] if f["severity"] == "error" and f["check"] in BLOCKING]


_LENGTH_TEMPLATES = {
    ("every", "shorter"): N_(
        "every output is shorter than the source (%(actual).3f s against %(expected).3f s); "
        "the source may be damaged"
    ),
    ("every", "longer"): N_(
        "every output is longer than the source (%(actual).3f s against %(expected).3f s); "
        "the source may be damaged"
    ),
    ("one", "shorter"): N_(
        "%(outputs)s is shorter than the source (%(actual).3f s against %(expected).3f s); "
        "the source may be damaged"
    ),
    ("one", "longer"): N_(
        "%(outputs)s is longer than the source (%(actual).3f s against %(expected).3f s); "
        "the source may be damaged"
    ),
    ("some", "shorter"): N_(
        "%(outputs)s are shorter than the source (%(actual).3f s against %(expected).3f s); "
        "the source may be damaged"
    ),
    ("some", "longer"): N_(
        "%(outputs)s are longer than the source (%(actual).3f s against %(expected).3f s); "
        "the source may be damaged"
    ),
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
        parts.append({"template": _LENGTH_TEMPLATES[how, way], "params": params})
    parts += [
        {"template": f.get("template", f["message"]), "params": f.get("params", {})}
        for f in blocking
        if f["check"] != "duration"
    ]
    parts += [
        {"template": N_("%(count)d decode error(s)"), "params": {"count": f["count"]}}
        for f in report["findings"]
        if f["check"] == "decode"
    ]
    return parts


def failure_reason(report: dict[str, Any]) -> str:
    """Return one line (English) saying why the outputs were not published."""
    parts = failure_parts(report)
    return "QC: " + "; ".join(p["template"] % p["params"] if p["params"] else p["template"]
                              for p in parts)  # fmt: skip
