"""The one place that starts ffmpeg: progress, time limit and error classification.

Failure classes (``ProcessingError.permanent``):

* permanent - the input or the command is at fault and a retry cannot help:
  invalid/truncated data ("Invalid data found", "moov atom not found"), missing
  streams ("matches no streams", "does not contain any stream"), unknown or
  unsupported codecs, bad options/filters, and exceeding the time limit (the same
  file would take as long again);
* transient - the machine is at fault and a retry (maybe elsewhere) can help:
  killed by a signal (OOM killer, shutdown), "No space left on device" (disk gets
  cleaned), "Resource temporarily unavailable", "Cannot allocate memory", I/O and
  network errors, a vanished local input ("No such file or directory"), ffmpeg
  not installed, and anything unrecognised (retries are bounded by the caller).
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from mam.errors import ProcessingError
from mam.messages import processing
from workers.ffmpeg.logs import MAX_LINE_CHARS, LogCollector, LogLine

STDERR_TAIL_LINES = 50
PR_SET_PDEATHSIG = 1  # prctl(2)
_PREFIX = re.compile(r"^\[[^\]]+ @ (?:0x)?[0-9a-fA-F]+\]\s*")
# Checked in this order; the first pattern found anywhere in the tail decides.
_TRANSIENT_FIRST = (
    "no space left on device",
    "resource temporarily unavailable",
    "cannot allocate memory",
    "too many open files",
    "connection reset",
    "connection refused",
    "connection timed out",
    "network is unreachable",
    "server returned 5",
    "broken pipe",
)
_PERMANENT = (  # most specific first: the first match becomes the reason
    "moov atom not found",
    "header missing",
    "matches no streams",
    "does not contain any stream",
    "no such stream",
    "unsupported codec",
    "decoder not found",
    "encoder not found",
    "unknown decoder",
    "unknown encoder",
    "could not find codec parameters",
    "error while opening decoder",
    "invalid frame dimensions",
    "no such filter",
    "error initializing complex filter",
    "error reinitializing filters",
    "unrecognized option",
    "option not found",
    "server returned 4",
    "invalid data found when processing input",
    "invalid argument",
)
_TRANSIENT_LAST = ("input/output error", "i/o error", "no such file or directory")
_RULES = ((_TRANSIENT_FIRST, False), (_PERMANENT, True), (_TRANSIENT_LAST, False))
_GENERIC = ("conversion failed!", "exiting normally")


@dataclass(frozen=True)
class Progress:
    """How far an ffmpeg run got."""

    percent: float
    out_time: float
    speed: float | None
    eta: float | None


def parse_progress_line(line: str) -> tuple[str, str] | None:
    """Split one ``key=value`` line of ``-progress`` output (None for other lines)."""
    key, sep, value = line.strip().partition("=")
    if not sep or not key:
        return None
    return key.strip(), value.strip()


class ProgressParser:
    """Turn the ``key=value`` blocks of ``-progress pipe:1`` into Progress values."""

    def __init__(self, duration: float | None) -> None:
        """Remember the expected output duration (None or 0 when unknown)."""
        self.duration = duration if duration and duration > 0 else None
        self.out_time = 0.0
        self.speed: float | None = None
        self.finished = False

    def feed(self, line: str) -> Progress | None:
        """Consume one line; return a Progress when it closes a block."""
        parsed = parse_progress_line(line)
        if parsed is None:
            return None
        key, value = parsed
        if key == "out_time_us":
            micro = _number(value)
            if micro is not None:
                self.out_time = max(self.out_time, micro / 1_000_000)
        elif key == "speed":
            speed = _number(value.rstrip("x"))
            self.speed = speed if speed and speed > 0 else None
        elif key == "progress":
            self.finished = self.finished or value == "end"
            return self.current()
        return None

    def current(self) -> Progress:
        """Return the progress as of the last complete block."""
        if self.finished:
            return Progress(100.0, self.out_time, self.speed, 0.0)
        if self.duration is None:
            return Progress(0.0, self.out_time, self.speed, None)
        percent = min(100.0, max(0.0, 100.0 * self.out_time / self.duration))
        eta = None
        if self.speed:
            eta = max(0.0, self.duration - self.out_time) / self.speed
        return Progress(percent, self.out_time, self.speed, eta)


def _number(value: str) -> float | None:
    """Return a float, or None for ``N/A`` and junk."""
    try:
        return float(value)
    except ValueError:
        return None


def _clean(line: str) -> str:
    """Strip the ``[component @ 0x...]`` prefix from an ffmpeg log line."""
    return _PREFIX.sub("", line.strip())


def _find(lines: list[str], patterns: Iterable[str]) -> str | None:
    """Return the last line containing the earliest matching pattern."""
    for pattern in patterns:
        for line in reversed(lines):
            if pattern in line.lower():
                return line
    return None


def classify_ffmpeg_error(stderr_tail: str, returncode: int) -> tuple[str, bool]:
    """Return (concise reason, permanent) for a failed ffmpeg run."""
    lines = [_clean(raw) for raw in stderr_tail.splitlines()]
    lines = [line for line in lines if line]
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return f"ffmpeg was killed by signal {name}", False
    if any("received signal" in line.lower() for line in lines):
        return "ffmpeg was stopped by a signal", False
    for patterns, permanent in _RULES:
        reason = _find(lines, patterns)
        if reason:
            return reason, permanent
    specific = [line for line in lines if line.lower() not in _GENERIC]
    if specific:
        return specific[-1], False
    return f"ffmpeg exited with status {returncode} without an error message", False


def _without_inputs(lines: Iterable[str], argv: list[str]) -> str:
    """Return log lines with the ``<input path>: `` prefix of ffmpeg messages removed."""
    prefixes = tuple(f"{arg}: " for flag, arg in itertools.pairwise(argv) if flag == "-i")
    cleaned = []
    for line in lines:
        prefix = next((p for p in prefixes if line.startswith(p)), "")
        cleaned.append(line[len(prefix) :])
    return "\n".join(cleaned)


@dataclass(frozen=True)
class RunResult:
    """What a successful ffmpeg run logged (bounded to ``MAX_LOG_LINES`` lines)."""

    log: tuple[LogLine, ...]
    out_time: float
    speed: float | None
    error_count: int = 0

    @property
    def errors(self) -> list[LogLine]:
        """Return the error-level lines that were kept."""
        return [line for line in self.log if line.is_error]


def _drain_stderr(stream: IO[bytes], collector: LogCollector) -> None:
    """Read ffmpeg's stderr line by line so its pipe never fills up."""
    for raw in iter(stream.readline, b""):
        collector.add(raw.decode("utf-8", "replace").rstrip()[:MAX_LINE_CHARS])


def _read_progress(
    stream: IO[bytes], parser: ProgressParser, events: queue.Queue[Progress | None]
) -> None:
    """Parse progress blocks from stdout into the queue; put None at EOF."""
    try:
        for raw in iter(stream.readline, b""):
            progress = parser.feed(raw.decode("utf-8", "replace"))
            if progress is not None:
                events.put(progress)
    finally:
        events.put(None)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill the process if it still runs and reap it."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Have the kernel kill ffmpeg when the worker process dies (hard time limit, OOM)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class _Reporter:
    """Forward progress to a callback at most every ``interval`` seconds."""

    def __init__(self, callback: Callable[[Progress], None] | None, interval: float) -> None:
        """Remember the callback and the minimum interval between calls."""
        self.callback = callback
        self.interval = interval
        self.last = float("-inf")

    def __call__(self, progress: Progress) -> None:
        """Report a progress unless it is final (reported separately) or too soon."""
        now = time.monotonic()
        if self.callback and progress.percent < 100 and now - self.last >= self.interval:
            self.last = now
            self.callback(progress)


def _pump(
    events: queue.Queue[Progress | None],
    deadline: float | None,
    stall_timeout: float | None,
    report: _Reporter,
) -> str | None:
    """Report progress until stdout closes (None), the deadline or a stall ("timeout"/"stall")."""
    last_sign = time.monotonic()
    while True:
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return "timeout"
        if stall_timeout is not None and now - last_sign >= stall_timeout:
            return "stall"
        wait = 0.5 if deadline is None else min(0.5, deadline - now)
        try:
            event = events.get(timeout=max(wait, 0.01))
        except queue.Empty:
            continue
        if event is None:
            return None
        last_sign = time.monotonic()
        report(event)


def _wait(proc: subprocess.Popen[bytes], deadline: float | None) -> bool:
    """Wait for the process to exit; return False when the deadline passes first."""
    remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
    try:
        proc.wait(timeout=remaining)
    except subprocess.TimeoutExpired:
        return False
    return True


def run_ffmpeg(
    argv: list[str],
    *,
    duration: float | None,
    on_progress: Callable[[Progress], None] | None = None,
    timeout: float | None = None,
    stall_timeout: float | None = None,
    progress_interval: float = 1.0,
) -> RunResult:
    """Run ffmpeg to completion, reporting progress; raise ProcessingError on failure.

    ``timeout`` bounds the whole run; ``stall_timeout`` bounds the time without any
    progress report (a hung input), both end in a permanent ProcessingError.
    """
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
        )
    except FileNotFoundError:
        raise ProcessingError(
            processing.FFMPEG_MISSING, params={"program": argv[0]}, permanent=False
        ) from None
    stdout, stderr = proc.stdout, proc.stderr
    if stdout is None or stderr is None:  # pragma: no cover - both are PIPE
        raise RuntimeError("ffmpeg pipes were not created")
    events: queue.Queue[Progress | None] = queue.Queue()
    parser = ProgressParser(duration)
    collector = LogCollector(lambda: parser.out_time, STDERR_TAIL_LINES)
    readers = [
        threading.Thread(target=_drain_stderr, args=(stderr, collector), daemon=True),
        threading.Thread(target=_read_progress, args=(stdout, parser, events), daemon=True),
    ]
    for reader in readers:
        reader.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        stopped = _pump(events, deadline, stall_timeout, _Reporter(on_progress, progress_interval))
        if stopped is None and not _wait(proc, deadline):
            stopped = "timeout"
    finally:
        _stop(proc)
        for reader in readers:
            reader.join(timeout=5)
        stdout.close()
        stderr.close()
    if stopped == "timeout":
        raise ProcessingError(
            processing.FFMPEG_TIMEOUT,
            params={"seconds": f"{timeout:g}"},
            permanent=True,
            timeout=timeout,
        )
    if stopped == "stall":
        raise ProcessingError(
            processing.FFMPEG_STALLED,
            params={"seconds": f"{stall_timeout:g}"},
            permanent=True,
            timeout=stall_timeout,
        )
    if proc.returncode != 0:
        tail = list(collector.tail)
        reason, permanent = classify_ffmpeg_error(_without_inputs(tail, argv), proc.returncode)
        raise ProcessingError(
            processing.FFMPEG_FAILED,
            detail=reason,
            permanent=permanent,
            returncode=proc.returncode,
            stderr_tail="\n".join(tail),
        )
    final = parser.current()
    if on_progress:
        out_time = duration if duration and duration > 0 else final.out_time
        on_progress(Progress(100.0, out_time, final.speed, 0.0))
    return RunResult(tuple(collector.lines), parser.out_time, final.speed, collector.error_count)
