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

from mam.messages import qc
from workers.ffmpeg.analysis import LoudnessMeasurement, Segment
from workers.ffmpeg.logs import LogLine
from workers.ffmpeg.specs import Loudness, QcSpec
from workers.qc_findings import finding, timecode
from workers.qc_timing import (
    AUDIO_FRAME,
    OutputCheck,
    SourceSpan,
    blocking_errors,
    expected_duration,
    failure_parts,
    failure_reason,
    output_findings,
    sound_edge_findings,
)

__all__ = [
    "LoudnessResult",
    "OutputCheck",
    "SourceSpan",
    "blocking_errors",
    "build_report",
    "failure_parts",
    "failure_reason",
    "timecode",
]

REPORT_VERSION = 1
EDGE_SECONDS = 5.0  # black or silence this close to the start or end is a fade or leader
MOSTLY = 0.9  # a finding covering this share of the programme is more than a detail
MAX_DECODE_SAMPLES = 10


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


SEGMENT_TEMPLATES = {"black": qc.BLACK, "freeze": qc.FREEZE, "silence": qc.SILENCE}
LOUDNESS_TEMPLATES = {
    "linear": qc.LOUDNESS_LINEAR,
    "dynamic": qc.LOUDNESS_DYNAMIC,
    None: qc.LOUDNESS_NONE,
}


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
            finding(
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
            finding(
                "loudness",
                "warning",
                qc.SILENT_SOUND,
            )
        )
        return items
    for result in results:
        m, t = result.measured, result.target
        profiles = ", ".join(result.profiles)
        if m is None:
            items.append(
                finding(
                    "loudness",
                    "warning",
                    qc.NO_LOUDNESS,
                    {"profiles": profiles},
                    profiles=profiles,
                )
            )
            continue
        off = abs(m.integrated - t.integrated)
        peak_over = m.true_peak - t.true_peak
        ok = off <= tolerance and peak_over <= 0.5
        items.append(
            finding(
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
    findings = output_findings(outputs, duration, frame_seconds, span)
    findings += sound_edge_findings(span, frame_seconds)
    if decode_error_count:
        first = decode_errors[0] if decode_errors else None
        findings.append(
            finding(
                "decode",
                "error",
                qc.DECODE_ERRORS_AT if first else qc.DECODE_ERRORS,
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
            finding(
                "streams",
                "warning",
                qc.NO_SOUND,
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
                "cards": round(o.cards, 3),
                "duration_ok": abs(o.duration - expected_duration(o, duration, span))
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
