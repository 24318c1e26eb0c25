"""The QC report: findings, severities, verdicts and what blocks publication (pure)."""

from __future__ import annotations

from typing import Any

from mam.i18n import render
from workers.ffmpeg.analysis import LoudnessMeasurement, Segment
from workers.ffmpeg.logs import LogLine
from workers.ffmpeg.specs import Loudness, QcSpec
from workers.qc import (
    LoudnessResult,
    OutputCheck,
    SourceSpan,
    blocking_errors,
    build_report,
    failure_parts,
    failure_reason,
    timecode,
)

FRAME = 0.04
EBU = Loudness()
WEB = Loudness(-16.0)
SOURCE = LoudnessMeasurement(-20.0, -4.0, 5.0, -30.0)


def _report(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "duration": 600.0,
        "frame_seconds": FRAME,
        "source_has_audio": True,
        "outputs": [OutputCheck("proxy", 600.0, True, True, 960, 540),
                    OutputCheck("web/360p", 600.02, True, True, 640, 360)],
        "black": [],
        "freezes": [],
        "silences": [],
        "decode_errors": [],
        "decode_error_count": 0,
        "source_loudness": SOURCE,
        "loudness": [
            LoudnessResult(EBU, ("proxy",), LoudnessMeasurement(-23.1, -7.0, 5.0, -33.0, "linear")),
            LoudnessResult(WEB, ("web",), LoudnessMeasurement(-16.0, -1.2, 5.0, -26.0, "linear")),
        ],
        "spec": QcSpec(),
    }  # fmt: skip
    args.update(changes)
    return build_report(**args)


def _checks(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["check"], f["severity"]) for f in report["findings"]]


def test_clean_programme_passes_with_loudness_notes() -> None:
    report = _report()
    assert (report["verdict"], report["errors"], report["warnings"]) == ("pass", 0, 0)
    assert _checks(report) == [("loudness", "info"), ("loudness", "info")]
    assert report["findings"][0]["message"] == (
        "proxy: -23.1 LUFS, true peak -7.0 dBTP (target -23 LUFS / -1 dBTP, linear normalisation)"
    )
    assert [o["duration_ok"] for o in report["outputs"]] == [True, True]
    assert report["loudness"]["results"][1]["target"]["integrated"] == -16.0
    assert report["loudness"]["source"]["integrated"] == -20.0


def test_black_silence_and_freezes_by_place_and_length() -> None:
    report = _report(
        black=[Segment(0.0, 2.0), Segment(300.0, 312.0)],  # a fade-in leader, then a gap
        silences=[Segment(596.0, 600.0)],  # the end of the programme
        freezes=[Segment(100.0, 104.0)],
    )
    assert report["verdict"] == "warn" and report["warnings"] == 2
    assert _checks(report) == [("freeze", "warning"), ("black", "warning"), ("black", "info"),
                               ("loudness", "info"), ("loudness", "info"),
                               ("silence", "info")]  # fmt: skip
    gap = next(f for f in report["findings"] if f["check"] == "black" and f["start"] == 300.0)
    assert gap["message"] == "black picture from 0:05:00.000 to 0:05:12.000 (12.0 s)"
    assert (gap["end"], gap["duration"]) == (312.0, 12.0)


def test_a_black_programme_fails() -> None:
    report = _report(black=[Segment(0.0, 600.0)])
    assert report["verdict"] == "fail" and _checks(report)[0] == ("black", "error")
    assert blocking_errors(report) == []  # published, but approval is blocked


def test_decode_errors_fail_qc_without_blocking_publication() -> None:
    errors = [LogLine("error while decoding MB 3 4", "error", "h264", 61.5)]
    report = _report(decode_errors=errors, decode_error_count=7)
    (finding,) = [f for f in report["findings"] if f["check"] == "decode"]
    assert finding["severity"] == "error" and finding["count"] == 7 and finding["start"] == 61.5
    assert finding["message"] == ("7 error(s) reading or decoding the source, the first near "
                                  "0:01:01.500: error while decoding MB 3 4")  # fmt: skip
    assert report["verdict"] == "fail" and blocking_errors(report) == []


def test_wrong_duration_and_missing_streams_block_publication() -> None:
    report = _report(outputs=[OutputCheck("proxy", 300.0, True, True),
                              OutputCheck("mobile", 600.0, True, False)])  # fmt: skip
    blocking = blocking_errors(report)
    assert [(f["check"], f.get("output")) for f in blocking] == [("streams", "mobile"),
                                                                 ("duration", "proxy")]  # fmt: skip
    assert blocking[0]["message"] == "mobile has no audio stream"
    assert failure_reason(report) == (
        "QC: proxy is shorter than the source (300.000 s against 600.000 s); the source may be "
        "damaged; mobile has no audio stream"
    )
    everything = _report(outputs=[OutputCheck("proxy", 300.0, True, True),
                                  OutputCheck("web/360p", 300.0, True, True)],
                         decode_errors=[], decode_error_count=3)  # fmt: skip
    assert failure_reason(everything).startswith(
        "QC: every output is shorter than the source (300.000 s against 600.000 s)"
    )
    assert failure_reason(everything).endswith("; 3 decode error(s)")
    assert blocking[1]["message"].startswith("proxy lasts 300.000 s but the source 600.000 s")
    # Within a frame and an audio packet is fine; a little more is a warning; only a gross
    # difference (1 % of the film, at least 0.5 s, at most 5 s) blocks publication.
    assert _checks(_report(outputs=[OutputCheck("p", 600.0 - FRAME - 0.02, True, True)])) == [
        ("loudness", "info"), ("loudness", "info")]  # fmt: skip
    near = _report(outputs=[OutputCheck("p", 600.0 - 2 * FRAME, True, True)])
    assert blocking_errors(near) == [] and near["verdict"] == "warn"
    assert _checks(near)[0] == ("duration", "warning")
    assert near["findings"][0]["message"] == (
        "p lasts 599.920 s, the source 600.000 s (-0.080 s, more than a frame)"
    )
    assert blocking_errors(_report(outputs=[OutputCheck("p", 595.1, True, True)])) == []
    assert blocking_errors(_report(outputs=[OutputCheck("p", 594.9, True, True)]))
    short = {"duration": 2.0, "outputs": [OutputCheck("p", 1.6, True, True)]}
    assert blocking_errors(_report(**short)) == []
    assert blocking_errors(_report(**short | {"outputs": [OutputCheck("p", 1.4, True, True)]}))


def test_outputs_are_held_to_the_picture_or_the_presentation_span() -> None:
    """An MPEG program stream whose sound starts 0.105 s before its picture and ends
    0.36 s before it: outputs as long as the picture (or the whole span) pass, and the
    report says what happened to the sound at either end."""
    span = SourceSpan(0.338, 1.239, 0.233, 0.777)
    outputs = [OutputCheck("proxy", 0.901, True, True), OutputCheck("web/480p", 1.006, True, True)]
    ok = _report(duration=0.901, span=span, outputs=outputs)
    assert ok["verdict"] == "pass" and ok["presentation"] == 1.006
    assert all(o["duration_ok"] for o in ok["outputs"])
    sync = [f for f in ok["findings"] if f["check"] == "sync"]
    assert [(f["severity"], f["message"]) for f in sync] == [
        ("info", "the sound starts 0.105 s before the picture; the outputs start with the "
                 "first picture"),
        ("info", "the sound ends 0.462 s before the picture; silence fills the rest"),
    ]  # fmt: skip
    late = _report(duration=10.0, span=SourceSpan(0.0, 10.0, 1.5, 10.0))
    assert [(f["severity"], f["params"]) for f in late["findings"] if f["check"] == "sync"] == [
        ("warning", {"seconds": 1.5})]  # fmt: skip


def test_findings_and_the_failure_reason_translate() -> None:
    chinese = {
        "black picture from %(start)s to %(end)s (%(seconds).1f s)":
            "黑场：%(start)s 至 %(end)s（%(seconds).1f 秒）",
        "every output is shorter than the source (%(actual).3f s against %(expected).3f s); "
        "the source may be damaged":
            "所有输出都比源文件短（%(actual).3f 秒，源文件 %(expected).3f 秒），源文件可能已损坏",
    }  # fmt: skip
    report = _report(black=[Segment(300.0, 312.0)])
    black = next(f for f in report["findings"] if f["check"] == "black")
    assert render(black["template"], black["params"], lambda t: chinese.get(t, t)) == (
        "黑场：0:05:00.000 至 0:05:12.000（12.0 秒）"
    )
    failed = _report(outputs=[OutputCheck("proxy", 300.0, True, True)])
    (part,) = failure_parts(failed)
    assert render(part["template"], part["params"], lambda t: chinese.get(t, t)) == (
        "所有输出都比源文件短（300.000 秒，源文件 600.000 秒），源文件可能已损坏"
    )


def test_loudness_off_target_and_silent_sources() -> None:
    off = [LoudnessResult(EBU, ("broadcast",), LoudnessMeasurement(-25.5, -9.0, 3, -35))]
    assert _checks(_report(loudness=off)) == [("loudness", "warning")]
    hot = [LoudnessResult(EBU, ("broadcast",), LoudnessMeasurement(-23.0, 0.2, 3, -33))]
    assert _checks(_report(loudness=hot)) == [("loudness", "warning")]
    silent = LoudnessMeasurement(float("-inf"), float("-inf"), 0.0, -70.0)
    report = _report(source_loudness=silent, loudness=[])
    assert _checks(report) == [("loudness", "warning")]
    assert "silent" in report["findings"][0]["message"]
    no_sound = _report(source_has_audio=False, source_loudness=None, loudness=[],
                       silences=[Segment(0, 600)])  # fmt: skip
    assert _checks(no_sound) == [("streams", "warning")]  # no silence or loudness noise


def test_timecode() -> None:
    assert timecode(3725.5) == "1:02:05.500"
    assert timecode(-1) == "0:00:00.000"


def test_an_output_with_slate_and_closing_card_is_held_to_film_plus_cards() -> None:
    """A profile with an opening slate (4 s) and a closing card (3 s): QC expects 607 s of
    a 600 s film; the same file without the cards declared, or cards missing, blocks."""
    carded = _report(outputs=[OutputCheck("broadcast", 607.0, True, True, cards=7.0)])
    assert [c for c, _ in _checks(carded)] == ["loudness", "loudness"]
    assert carded["outputs"][0]["duration_ok"] and carded["outputs"][0]["cards"] == 7.0
    undeclared = _report(outputs=[OutputCheck("broadcast", 607.0, True, True)])
    assert [f["check"] for f in blocking_errors(undeclared)] == ["duration"]
    missing = _report(outputs=[OutputCheck("broadcast", 600.0, True, True, cards=7.0)])
    assert [f["expected"] for f in blocking_errors(missing)] == [607.0]


def test_card_seconds_count_only_the_cards_a_film_gets() -> None:
    from workers.ffmpeg.branding import Branding, BrandingInputs, card_seconds

    both = Branding(slate=True, closing=True, closing_text="版权所有", slate_seconds=4.0,
                    closing_seconds=3.0)  # fmt: skip
    assert card_seconds(both, BrandingInputs(slate_lines=("时代风采", "第1集"))) == 7.0
    assert card_seconds(both, BrandingInputs()) == 3.0  # no slate lines: no slate
    assert card_seconds(Branding(slate=True), BrandingInputs(slate_lines=("x",))) == 4.0
    assert card_seconds(Branding(captions="zh"), BrandingInputs(slate_lines=("x",))) == 0.0
    assert card_seconds(None, BrandingInputs(slate_lines=("x",))) == 0.0
