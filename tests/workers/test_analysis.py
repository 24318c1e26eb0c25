"""The audio pre-pass argv, ffmpeg's log lines and the analysis parsers (no ffmpeg here)."""

from __future__ import annotations

import math

from mam.probe import AudioStream, MediaInfo
from workers.ffmpeg.analysis import (
    MEASURE,
    LoudnessMeasurement,
    Segment,
    build_audio_analysis_command,
    decode_errors,
    parse_black,
    parse_freezes,
    parse_loudnorm,
    parse_output_loudness,
    parse_silences,
)
from workers.ffmpeg.logs import LogCollector, LogLine
from workers.ffmpeg.specs import QcSpec

STDERR = """\
[info] Input #0, mpegts, from 'in.ts':
[h264 @ 0x55d0c8a1] [error] error while decoding MB 12 30, bytestream -5
[h264 @ 0x55d0c8a1] [error] concealing 1620 DC, 1620 AC, 1620 MV errors in I frame
[silencedetect @ 0x5601] [info] silence_start: 12.5
[silencedetect @ 0x5601] [info] silence_end: 15.25 | silence_duration: 2.75
[blackdetect @ 0x5602] [info] black_start:0 black_end:1.96 black_duration:1.96
[freezedetect @ 0x5603] [info] lavfi.freezedetect.freeze_start: 30.04
[freezedetect @ 0x5603] [info] lavfi.freezedetect.freeze_duration: 4
[freezedetect @ 0x5603] [info] lavfi.freezedetect.freeze_end: 34.04
[freezedetect @ 0x5603] [info] lavfi.freezedetect.freeze_start: 58
[silencedetect @ 0x5601] [info] silence_start: 59
[swscaler @ 0x1] [swscaler @ 0x2] [warning] deprecated pixel format used
[loudnorm@measure @ 0x5604] [info]
{
\t"input_i" : "-20.53",
\t"input_tp" : "-3.20",
\t"input_lra" : "6.10",
\t"input_thresh" : "-30.61",
\t"output_i" : "-23.01",
\t"output_tp" : "-5.68",
\t"output_lra" : "5.90",
\t"output_thresh" : "-33.05",
\t"normalization_type" : "dynamic",
\t"target_offset" : "0.01"
}
[loudnorm@t0 @ 0x5605] [info]
{
\t"input_i" : "-20.53",
\t"input_tp" : "-3.20",
\t"input_lra" : "6.10",
\t"input_thresh" : "-30.61",
\t"output_i" : "-23.00",
\t"output_tp" : "-5.70",
\t"output_lra" : "6.10",
\t"output_thresh" : "-33.08",
\t"normalization_type" : "linear",
\t"target_offset" : "0.00"
}
[loudnorm@silent @ 0x5606] [info]
{
\t"input_i" : "-inf",
\t"input_tp" : "-inf",
\t"input_lra" : "0.00",
\t"input_thresh" : "-70.00",
\t"output_i" : "-inf",
\t"output_tp" : "-inf",
\t"output_lra" : "0.00",
\t"output_thresh" : "-70.00",
\t"normalization_type" : "dynamic",
\t"target_offset" : "inf"
}
[error] Error while decoding stream #0:0: Invalid data found when processing input
"""


def _log() -> list[LogLine]:
    clock = iter([0.0, 0.0, 12.0, 12.0] + [60.0] * 100)
    collector = LogCollector(lambda: next(clock))
    for line in STDERR.splitlines():
        collector.add(line)
    return collector.lines


def test_log_lines_are_split_into_component_level_and_text() -> None:
    log = _log()
    assert log[1] == LogLine("error while decoding MB 12 30, bytestream -5", "error", "h264", 0.0)
    assert log[4].component == "silencedetect" and log[4].level == "info"
    assert log[11].level == "warning" and log[11].text == "deprecated pixel format used"
    # A multi-line message keeps its component and level on every line.
    brace = log[13]
    assert (brace.text, brace.component, brace.level) == ("{", "loudnorm@measure", "info")
    assert log[-1].is_error and log[-1].component is None


def test_collector_keeps_a_tail_without_info_lines() -> None:
    collector = LogCollector(lambda: 0.0, tail_lines=3)
    for line in STDERR.splitlines():
        collector.add(line)
    assert list(collector.tail) == [
        "[h264 @ 0x55d0c8a1] concealing 1620 DC, 1620 AC, 1620 MV errors in I frame",
        "[swscaler @ 0x1] [swscaler @ 0x2] deprecated pixel format used",
        "Error while decoding stream #0:0: Invalid data found when processing input",
    ]
    assert collector.error_count == 3


def test_loudness_figures() -> None:
    log = _log()
    assert parse_loudnorm(log, MEASURE) == LoudnessMeasurement(-20.53, -3.2, 6.1, -30.61, "dynamic")
    final = parse_output_loudness(log, "loudnorm@t0")
    assert final == LoudnessMeasurement(-23.0, -5.7, 6.1, -33.08, "linear")
    assert parse_loudnorm(log, "loudnorm@t9") is None
    silent = parse_loudnorm(log, "loudnorm@silent")
    assert silent is not None and silent.is_silent and math.isinf(silent.integrated)
    assert silent.to_dict()["integrated"] is None  # JSON has no infinity


def test_segments_with_open_ends_closed_at_the_end_of_the_film() -> None:
    log = _log()
    assert parse_silences(log, duration=60.0) == [Segment(12.5, 15.25), Segment(59.0, 60.0)]
    assert parse_black(log) == [Segment(0.0, 1.96)]
    assert parse_freezes(log, duration=60.0) == [Segment(30.04, 34.04), Segment(58.0, 60.0)]
    assert Segment(1.0, 3.5).duration == 2.5


def test_decode_errors_have_rough_timecodes() -> None:
    errors = decode_errors(_log())
    assert [e.text for e in errors] == [
        "error while decoding MB 12 30, bytestream -5",
        "concealing 1620 DC, 1620 AC, 1620 MV errors in I frame",
        "Error while decoding stream #0:0: Invalid data found when processing input",
    ]
    assert errors[0].at == 0.0 and errors[-1].at == 60.0
    ours = [LogLine("Invalid frame", "error", "loudnorm@t0"), LogLine("x", "warning", "h264")]
    assert decode_errors(ours) == []


def test_audio_prepass_decodes_only_the_sound() -> None:
    info = MediaInfo(
        container="mpegts", format_long_name="", duration=60.0, size=1, bit_rate=1, video=(),
        audio=(AudioStream(3, "ac3", 6, "5.1(side)", 48000, 384000),), subtitles=0,
    )  # fmt: skip
    argv = build_audio_analysis_command("/in/节目 1.ts", info, QcSpec(silence_min_seconds=1.5))
    assert argv[argv.index("-loglevel") + 1] == "level+info"
    assert argv[argv.index("-map") + 1] == "0:3"
    assert {"-vn", "-sn", "-dn"} <= set(argv)
    chain = argv[argv.index("-af") + 1].split(",")
    assert chain[0] == "aformat=sample_rates=48000:channel_layouts=stereo"  # measured as heard
    assert chain[1] == "silencedetect=n=-60dB:d=1.5"
    assert chain[2].startswith("loudnorm@measure=I=-23.0:TP=-1.0:LRA=20.0:print_format=json")
    assert argv[-3:] == ["-f", "null", "-"]
    assert "/in/节目 1.ts" in argv
