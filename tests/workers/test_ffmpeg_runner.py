"""run_ffmpeg: progress parsing, error classification and real transcodes of generated media."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mam.errors import ProcessingError
from mam.probe import probe
from tests import media
from workers.ffmpeg.commands import build_process_command
from workers.ffmpeg.plan import plan_encode
from workers.ffmpeg.runner import (
    Progress,
    ProgressParser,
    classify_ffmpeg_error,
    parse_progress_line,
    run_ffmpeg,
)
from workers.ffmpeg.specs import Mp4Rendition, PosterSpec, QcSpec, SpriteSpec

PROXY = Mp4Rendition("proxy", 540, "1200k", "1800k", "2400k", "128k")

# ---- progress parsing ----

BLOCK = """frame=50
fps=0.00
stream_0_0_q=28.0
bitrate=N/A
total_size=48
out_time_us=2500000
out_time_ms=2500000
out_time=00:00:02.500000
dup_frames=0
drop_frames=0
speed=1.25x
progress=continue
"""


def _feed(parser: ProgressParser, text: str) -> list[Progress]:
    return [p for line in text.splitlines() if (p := parser.feed(line)) is not None]


def test_parse_progress_line() -> None:
    assert parse_progress_line("out_time_us=2500000\n") == ("out_time_us", "2500000")
    assert parse_progress_line("speed=N/A") == ("speed", "N/A")
    assert parse_progress_line("garbage") is None


def test_progress_block_gives_percent_speed_and_eta() -> None:
    (progress,) = _feed(ProgressParser(duration=10.0), BLOCK)
    assert progress == Progress(percent=25.0, out_time=2.5, speed=1.25, eta=6.0)


def test_progress_handles_na_clamps_and_ends_at_100() -> None:
    parser = ProgressParser(duration=2.0)
    (first,) = _feed(parser, "out_time_us=N/A\nspeed=N/A\nprogress=continue\n")
    assert first == Progress(0.0, 0.0, None, None)
    (over,) = _feed(parser, "out_time_us=2600000\nspeed=2x\nprogress=continue\n")
    assert over.percent == 100.0
    assert over.eta == 0.0
    (end,) = _feed(parser, "out_time_us=2600000\nprogress=end\n")
    assert end.percent == 100.0


def test_progress_without_duration_stays_at_zero_until_the_end() -> None:
    parser = ProgressParser(duration=None)
    assert _feed(parser, BLOCK)[0].percent == 0.0
    assert _feed(parser, "progress=end\n")[0].percent == 100.0


# ---- error classification ----


@pytest.mark.parametrize(
    ("stderr", "returncode", "reason", "permanent"),
    [
        ("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d0c8] moov atom not found\n"
         "in.mp4: Invalid data found when processing input", 1, "moov atom not found", True),
        ("in.ts: Invalid data found when processing input", 1,
         "in.ts: Invalid data found when processing input", True),
        ("Stream map '0:a:3' matches no streams.\nTo ignore this, add a trailing '?' to the map.",
         1, "Stream map '0:a:3' matches no streams.", True),
        ("Output file #0 does not contain any stream", 1,
         "Output file #0 does not contain any stream", True),
        ("[mpeg2video @ 0x1] Unsupported codec with id 0 for input stream 0", 1,
         "Unsupported codec with id 0 for input stream 0", True),
        ("av_interleaved_write_frame(): No space left on device\n"
         "Error writing trailer of out.mp4: No space left on device\nConversion failed!", 1,
         "Error writing trailer of out.mp4: No space left on device", False),
        ("Error while decoding: Resource temporarily unavailable", 1,
         "Error while decoding: Resource temporarily unavailable", False),
        ("in.mp4: Input/output error", 1, "in.mp4: Input/output error", False),
        ("whatever was printed", -9, "ffmpeg was killed by signal SIGKILL", False),
        ("Exiting normally, received signal 15.", 255, "ffmpeg was stopped by a signal", False),
        ("Something new went wrong\nConversion failed!", 1, "Something new went wrong", False),
        ("", 1, "ffmpeg exited with status 1 without an error message", False),
    ],
)  # fmt: skip
def test_classify_ffmpeg_error(stderr: str, returncode: int, reason: str, permanent: bool) -> None:
    assert classify_ffmpeg_error(stderr, returncode) == (reason, permanent)


# ---- real ffmpeg runs ----


@pytest.fixture(scope="module")
def sample(media_dir: Path) -> Callable[[str], Path]:
    """Return a function that generates (once per module) a named sample file."""
    folder = media_dir / "runner"
    folder.mkdir(exist_ok=True)
    makers: dict[str, Callable[[Path], Path]] = {
        "clip.mp4": lambda p: media.make_clip(p, seconds=3),
        "notes.mp4": media.make_text_file_as_mp4,
    }
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = makers[name](folder / name)
        return made[name]

    return get


def _command(source: Path, out: Path, **kwargs: object) -> list[str]:
    info = probe(source)
    plan = plan_encode(info, [PROXY], **kwargs)  # type: ignore[arg-type]
    for sub in plan.directories():
        (out / sub).mkdir(parents=True, exist_ok=True)
    return build_process_command(str(source), info, str(out), plan)


@pytest.mark.slow
def test_progress_flows_from_the_start_and_the_log_is_kept(
    sample: Callable[[str], Path], tmp_path: Path
) -> None:
    source = sample("clip.mp4")
    argv = _command(source, tmp_path, poster=PosterSpec(), sprite=SpriteSpec(), qc=QcSpec())
    argv[1:1] = ["-stats_period", "0.05"]  # several progress blocks even for a 3 s clip:
    argv[argv.index("-i") : argv.index("-i")] = ["-readrate", "6"]  # read at 6x real time
    seen: list[Progress] = []
    result = run_ffmpeg(argv, duration=3.0, on_progress=seen.append, progress_interval=0)
    percents = [p.percent for p in seen]
    # Every output (poster candidates, sprite cells, analysis) starts with the first frame,
    # so ffmpeg reports progress from the beginning rather than after a poster window.
    assert len(percents) >= 4 and percents[0] < 50
    assert percents == sorted(percents)
    assert percents[-1] == 100.0 and percents[-2] < 100.0
    assert seen[-1].eta == 0.0
    assert result.out_time == pytest.approx(3.0, abs=0.1)
    assert result.error_count == 0
    assert any(line.component == "libx264" for line in result.log)  # info lines are kept
    assert (tmp_path / "proxy.mp4").stat().st_size > 0
    assert sorted(p.name for p in (tmp_path / "sprite-cells").iterdir()) == [
        "00001.jpg", "00002.jpg", "00003.jpg"]  # fmt: skip


def test_progress_is_throttled(sample: Callable[[str], Path], tmp_path: Path) -> None:
    argv = _command(sample("clip.mp4"), tmp_path)
    argv[1:1] = ["-stats_period", "0.05"]
    seen: list[Progress] = []
    run_ffmpeg(argv, duration=3.0, on_progress=seen.append, progress_interval=60)
    assert len(seen) <= 2  # at most one in-between report, then the final 100 %
    assert seen[-1].percent == 100.0


def test_corrupt_source_is_a_permanent_failure(
    sample: Callable[[str], Path], tmp_path: Path
) -> None:
    argv = _command(sample("clip.mp4"), tmp_path)
    argv[argv.index("-i") + 1] = str(sample("notes.mp4"))
    with pytest.raises(ProcessingError) as excinfo:
        run_ffmpeg(argv, duration=3.0)
    assert excinfo.value.permanent
    assert excinfo.value.code == "processing.ffmpeg_failed"
    assert excinfo.value.detail == "moov atom not found"  # ffmpeg's words, shown apart
    assert "Invalid data found" in str(excinfo.value.details["stderr_tail"])
    assert "[error]" not in str(excinfo.value.details["stderr_tail"])


@pytest.mark.slow
def test_time_limit_kills_ffmpeg() -> None:
    argv = ["ffmpeg", "-hide_banner", "-nostats", "-progress", "pipe:1",
            "-f", "lavfi", "-i", "testsrc", "-f", "null", "-"]  # fmt: skip
    started = time.monotonic()
    with pytest.raises(ProcessingError, match=r"time limit of 1 s") as excinfo:
        run_ffmpeg(argv, duration=None, timeout=1)
    assert excinfo.value.permanent
    assert time.monotonic() - started < 5


def test_a_hung_input_is_stopped(tmp_path: Path) -> None:
    """ffmpeg waiting on an input that never delivers (a FIFO nobody writes) is stopped."""
    fifo = tmp_path / "stuck.ts"
    os.mkfifo(fifo)
    argv = ["ffmpeg", "-hide_banner", "-nostats", "-progress", "pipe:1", "-i", str(fifo),
            "-f", "null", "-"]  # fmt: skip
    started = time.monotonic()
    with pytest.raises(ProcessingError, match=r"no progress for 1 s") as excinfo:
        run_ffmpeg(argv, duration=10, stall_timeout=1, timeout=30)
    assert excinfo.value.permanent
    assert time.monotonic() - started < 5


def test_ffmpeg_dies_with_the_worker(tmp_path: Path) -> None:
    """A worker killed at the hard time limit takes its ffmpeg with it (no orphan)."""
    pid_file = tmp_path / "ffmpeg.pid"
    script = tmp_path / "fake-ffmpeg"
    script.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 600\n")
    script.chmod(0o755)
    worker = subprocess.Popen([sys.executable, "-c", (
        "from workers.ffmpeg.runner import run_ffmpeg\n"
        f"run_ffmpeg([{str(script)!r}], duration=None)\n")])  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not pid_file.exists() or not pid_file.read_text().strip():
            assert time.monotonic() < deadline, "the fake ffmpeg did not start"
            time.sleep(0.05)
        child = int(pid_file.read_text())
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        deadline = time.monotonic() + 5
        while _alive(child):
            assert time.monotonic() < deadline, "ffmpeg outlived the worker"
            time.sleep(0.05)
    finally:
        worker.kill()
        worker.wait()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_missing_ffmpeg_is_transient() -> None:
    with pytest.raises(ProcessingError, match="ffmpeg-not-installed is not installed") as excinfo:
        run_ffmpeg(["ffmpeg-not-installed", "-version"], duration=None)
    assert not excinfo.value.permanent


class Cancelled(Exception):
    """Raised by a progress callback, e.g. when the job was revoked."""


def test_callback_error_stops_ffmpeg() -> None:
    def cancel(_progress: Progress) -> None:
        raise Cancelled

    argv = ["ffmpeg", "-nostats", "-stats_period", "0.05", "-progress", "pipe:1",
            "-f", "lavfi", "-i", "testsrc", "-f", "null", "-"]  # fmt: skip
    started = time.monotonic()
    with pytest.raises(Cancelled):
        run_ffmpeg(argv, duration=None, on_progress=cancel, progress_interval=0)
    assert time.monotonic() - started < 5
