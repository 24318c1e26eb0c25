"""The QC report of a version (pure): findings with timecodes and a severity each.

Severities: ``info`` (worth knowing, e.g. a fade to black at the end), ``warning``
(a reviewer should look: black, silence or a frozen picture inside the programme,
loudness off target) and ``error`` (the result is damaged: decode errors, an output
shorter or longer than the source by more than one frame, a missing stream).

The verdict is ``fail`` with any error, ``warn`` with any warning, else ``pass``.
Errors that make the outputs unusable (``blocking``: wrong duration, missing stream)
stop publication; other errors (decode errors with a complete result) are published
with a failing QC verdict, which blocks approval until someone waives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workers.ffmpeg.analysis import LoudnessMeasurement, Segment
from workers.ffmpeg.logs import LogLine
from workers.ffmpeg.specs import Loudness, QcSpec

REPORT_VERSION = 1
EDGE_SECONDS = 5.0  # black or silence this close to the start or end is a fade or leader
MOSTLY = 0.9  # a finding covering this share of the programme is more than a detail
MAX_DECODE_SAMPLES = 10
BLOCKING = ("duration", "streams")


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


def _finding(check: str, severity: str, message: str, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"check": check, "severity": severity, "message": message}
    item.update({k: (round(v, 3) if isinstance(v, float) else v) for k, v in extra.items()})
    return item


def timecode(seconds: float) -> str:
    """Return H:MM:SS.mmm."""
    millis = round(max(seconds, 0.0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours}:{minutes:02d}:{millis / 1000:06.3f}"


def _segments(
    check: str, label: str, found: Sequence[Segment], duration: float, *, worst: str
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
                f"{label} from {timecode(seg.start)} to {timecode(seg.end)} ({seg.duration:.1f} s)",
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
                "the sound is silent (or too short to measure); it was not normalised",
            )
        )
        return items
    for result in results:
        m, t = result.measured, result.target
        profiles = ", ".join(result.profiles)
        if m is None:
            items.append(
                _finding(
                    "loudness", "warning", f"no loudness figure for {profiles}", profiles=profiles
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
                f"{profiles}: {m.integrated:.1f} LUFS, true peak {m.true_peak:.1f} dBTP "
                f"(target {t.label}, {m.normalization or 'no'} normalisation)",
                profiles=profiles,
                integrated=m.integrated,
                true_peak=m.true_peak,
                target=t.integrated,
                target_true_peak=t.true_peak,
            )
        )
    return items


def _outputs(outputs: Sequence[OutputCheck], duration: float, frame: float) -> list[dict[str, Any]]:
    items = []
    for out in outputs:
        if not (out.has_video and out.has_audio):
            missing = "video" if not out.has_video else "audio"
            items.append(
                _finding(
                    "streams", "error", f"{out.profile} has no {missing} stream", output=out.profile
                )
            )
        delta = out.duration - duration
        if abs(delta) > frame:
            items.append(
                _finding(
                    "duration",
                    "error",
                    f"{out.profile} lasts {out.duration:.3f} s but the source {duration:.3f} s "
                    f"({delta:+.3f} s, more than one frame); the source may be damaged",
                    output=out.profile,
                    start=min(out.duration, duration),
                    end=duration,
                    expected=duration,
                    actual=out.duration,
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
) -> dict[str, Any]:
    """Return the QC report (JSON-able) of one processing run."""
    findings = _outputs(outputs, duration, frame_seconds)
    if decode_error_count:
        first = decode_errors[0] if decode_errors else None
        findings.append(
            _finding(
                "decode",
                "error",
                f"{decode_error_count} error(s) reading or decoding the source"
                + (f", the first near {timecode(first.at)}: {first.text}" if first else ""),
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
                "streams", "warning", "the source has no sound; a silent stereo track was added"
            )
        )
    findings += _segments("black", "black picture", black, duration, worst="error")
    findings += _segments("freeze", "frozen picture", freezes, duration, worst="warning")
    if source_has_audio:
        findings += _segments("silence", "silence", silences, duration, worst="warning")
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
        "outputs": [
            {
                "profile": o.profile,
                "duration": round(o.duration, 3),
                "video": o.has_video,
                "audio": o.has_audio,
                "width": o.width,
                "height": o.height,
                "duration_ok": abs(o.duration - duration) <= frame_seconds,
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


def failure_reason(report: dict[str, Any]) -> str:
    """Return one line saying why the outputs were not published (for the version)."""
    blocking = blocking_errors(report)
    parts = []
    durations = [f for f in blocking if f["check"] == "duration"]
    if durations:
        first = durations[0]
        every = len(durations) == len(report["outputs"])
        names = "every output" if every else ", ".join(f["output"] for f in durations)
        verb = "is" if every or len(durations) == 1 else "are"
        parts.append(
            f"{names} {verb} {'shorter' if first['actual'] < first['expected'] else 'longer'} "
            f"than the source ({first['actual']:.3f} s against {first['expected']:.3f} s); "
            "the source may be damaged"
        )
    parts += [f["message"] for f in blocking if f["check"] != "duration"]
    parts += [f"{f['count']} decode error(s)" for f in report["findings"] if f["check"] == "decode"]
    return "QC: " + "; ".join(parts)
