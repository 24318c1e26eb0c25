"""Analysis: the audio pre-pass (loudness pass 1, silence) and parsers of ffmpeg's log.

The video checks (``blackdetect``, ``freezedetect``) ride on the one decode of
``build_process_command``; the audio ones run in a pre-pass that decodes only the
audio, because pass 2 of the loudness normalisation needs pass 1's figures before
the renditions are encoded.  The filters report at ``info`` level, so these runs use
``-loglevel level+info`` and the parsers below read the LogLines of the runner.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from mam.probe import MediaInfo
from workers.ffmpeg.logs import LogLine
from workers.ffmpeg.normalise import JOIN_PAIR, STEREO, stereo_pair
from workers.ffmpeg.specs import Loudness, QcSpec

ANALYSIS_ARGS = ("-hide_banner", "-nostats", "-loglevel", "level+info", "-progress", "pipe:1", "-y")
MEASURE = "loudnorm@measure"
# Quieter than this (LUFS) counts as silent: no gain is applied to it.
SILENT_LUFS = -70.0
_NUMBER = r"(-?[0-9.]+(?:e[-+]?[0-9]+)?|-?inf|nan)"
_SILENCE_START = re.compile(rf"silence_start: {_NUMBER}")
_SILENCE_END = re.compile(rf"silence_end: {_NUMBER} \| silence_duration: {_NUMBER}")
_BLACK = re.compile(rf"black_start:{_NUMBER} black_end:{_NUMBER} black_duration:{_NUMBER}")
_FREEZE_START = re.compile(rf"freeze_start: {_NUMBER}")
_FREEZE_END = re.compile(rf"freeze_end: {_NUMBER}")
# Our own filters' chatter at error level is not the source's fault.
_NOT_DECODE_ERRORS = ("loudnorm", "ebur128", "blackdetect", "freezedetect", "silencedetect")


@dataclass(frozen=True)
class Segment:
    """A stretch of the programme, in seconds from its start."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass(frozen=True)
class LoudnessMeasurement:
    """What loudnorm measured (pass 1 on the source, or on a finished output)."""

    integrated: float
    true_peak: float
    lra: float
    threshold: float
    normalization: str | None = None  # "linear" or "dynamic" (pass 2 only)

    @property
    def is_silent(self) -> bool:
        """Return True when there is nothing to normalise."""
        return not math.isfinite(self.integrated) or self.integrated <= SILENT_LUFS

    def to_dict(self) -> dict[str, float | str | None]:
        return {
            k: (v if not isinstance(v, float) or math.isfinite(v) else None)
            for k, v in asdict(self).items()
        }


def _db(value: float) -> str:
    return f"{value:g}dB"


def loudnorm_measure_options(target: Loudness) -> dict[str, object]:
    """Return the options of a measuring loudnorm (its figures do not depend on the target)."""
    return {
        "I": target.integrated,
        "TP": target.true_peak,
        "LRA": target.lra,
        "print_format": "json",
    }


def loudnorm_linear_options(target: Loudness, measured: LoudnessMeasurement) -> dict[str, object]:
    """Return the options of pass 2: one gain for the whole programme (linear mode).

    loudnorm itself falls back to dynamic mode when the gain would push the true peak
    above the target or the range is wider than ``target.lra``; its JSON says which.
    """
    return {
        "I": target.integrated,
        "TP": target.true_peak,
        "LRA": target.lra,
        "measured_I": round(measured.integrated, 2),
        "measured_TP": round(measured.true_peak, 2),
        "measured_LRA": round(measured.lra, 2),
        "measured_thresh": round(measured.threshold, 2),
        "linear": "true",
        "print_format": "json",
    }


def build_audio_analysis_command(source: str, info: MediaInfo, qc: QcSpec) -> list[str]:
    """Return the argv of the pre-pass: loudness pass 1 and silence detection on the audio."""
    audio = info.primary_audio
    if audio is None:
        raise ValueError("the source has no audio to analyse")
    measure = ":".join(f"{k}={v}" for k, v in loudnorm_measure_options(Loudness()).items())
    chain = ",".join(
        [
            f"aformat=sample_rates={STEREO['sample_rates']}:channel_layouts=stereo",
            f"silencedetect=n={_db(qc.silence_noise_db)}:d={qc.silence_min_seconds:g}",
            f"{MEASURE}={measure}",
        ]
    )
    pair = stereo_pair(info)
    if pair is None:
        streams = ["-map", f"0:{audio.index}", "-vn", "-sn", "-dn", "-af", chain]
    else:  # measure what the outputs will carry: CH1 left, CH2 right
        join = ":".join(f"{k}={v}" for k, v in JOIN_PAIR.items())
        graph = f"[0:{pair[0].index}][0:{pair[1].index}]join={join},{chain}[sound]"
        streams = ["-filter_complex", graph, "-map", "[sound]"]
    return ["ffmpeg", *ANALYSIS_ARGS, "-i", source, *streams, "-f", "null", "-"]


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return math.nan


def _loudnorm(log: Iterable[LogLine], instance: str, prefix: str) -> LoudnessMeasurement | None:
    """Return the ``input_*`` or ``output_*`` figures of the JSON summary of ``instance``."""
    text = "\n".join(line.text for line in log if line.component == instance)
    match = re.search(r"\{[^{}]*\}", text)
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
        return LoudnessMeasurement(
            integrated=_float(data[f"{prefix}_i"]),
            true_peak=_float(data[f"{prefix}_tp"]),
            lra=_float(data[f"{prefix}_lra"]),
            threshold=_float(data[f"{prefix}_thresh"]),
            normalization=data.get("normalization_type"),
        )
    except (ValueError, KeyError, TypeError):
        return None


def parse_loudnorm(log: Iterable[LogLine], instance: str) -> LoudnessMeasurement | None:
    """Return what the loudnorm called ``instance`` measured on its input (pass 1)."""
    return _loudnorm(log, instance, "input")


def parse_output_loudness(log: Iterable[LogLine], instance: str) -> LoudnessMeasurement | None:
    """Return what pass 2 of loudnorm produced (its ``output_*`` figures and mode)."""
    return _loudnorm(log, instance, "output")


def _close(start: float | None, end: float) -> list[Segment]:
    return [] if start is None else [Segment(start, max(start, end))]


def parse_silences(log: Iterable[LogLine], duration: float) -> list[Segment]:
    """Return the silent stretches silencedetect reported (open ones end with the film)."""
    found: list[Segment] = []
    start: float | None = None
    for line in log:
        if m := _SILENCE_START.search(line.text):
            start = max(0.0, _float(m.group(1)))
        elif (m := _SILENCE_END.search(line.text)) and start is not None:
            found.append(Segment(start, _float(m.group(1))))
            start = None
    return found + _close(start, duration)


def parse_black(log: Iterable[LogLine]) -> list[Segment]:
    """Return the black stretches blackdetect reported."""
    return [
        Segment(max(0.0, _float(m.group(1))), _float(m.group(2)))
        for line in log
        if (m := _BLACK.search(line.text))
    ]


def parse_freezes(log: Iterable[LogLine], duration: float) -> list[Segment]:
    """Return the frozen stretches freezedetect reported (open ones end with the film)."""
    found: list[Segment] = []
    start: float | None = None
    for line in log:
        if m := _FREEZE_START.search(line.text):
            start = max(0.0, _float(m.group(1)))
        elif (m := _FREEZE_END.search(line.text)) and start is not None:
            found.append(Segment(start, _float(m.group(1))))
            start = None
    return found + _close(start, duration)


def decode_errors(log: Sequence[LogLine]) -> list[LogLine]:
    """Return the error-level lines about reading or decoding the source."""
    return [
        line
        for line in log
        if line.is_error and not (line.component or "").startswith(_NOT_DECODE_ERRORS)
    ]
