"""ffmpeg's log lines, split into component, level and text (``-loglevel level+info``)."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

MAX_LINE_CHARS = 500


@dataclass(frozen=True)
class LogLine:
    """One line of ffmpeg's log: who wrote it, at which level, and about when.

    ``component`` is the ``[name @ 0x...]`` prefix (``None`` for ffmpeg itself),
    ``level`` comes from ``-loglevel level+...`` (``None`` when the run did not ask
    for it), ``at`` is the output time in seconds when the line was read: a rough
    timecode for messages such as decode errors, which carry none.  Lines that
    continue a multi-line message inherit the component and level of its first line.
    """

    text: str
    level: str | None = None
    component: str | None = None
    at: float = 0.0

    @property
    def is_error(self) -> bool:
        """Return True for error, fatal and panic lines."""
        return self.level in ("error", "fatal", "panic")


_LOG_PREFIX = re.compile(
    r"^(?:\[(?P<component>[^\]@]+(?:@[^\] ]+)?) @ (?:0x)?[0-9a-fA-F]+\](?: |$))*"
    r"(?:\[(?P<level>quiet|panic|fatal|error|warning|info|verbose|debug|trace)\](?: |$))?"
)
MAX_LOG_LINES = 20000
MAX_ERRORS = 1000


class LogCollector:
    """Split stderr into LogLines; keep a tail of the non-info lines for error reports."""

    def __init__(self, clock: Callable[[], float], tail_lines: int = 50) -> None:
        """Stamp lines with ``clock()`` (the output time so far)."""
        self.clock = clock
        self.lines: list[LogLine] = []
        self.tail: deque[str] = deque(maxlen=tail_lines)
        self.level: str | None = None
        self.component: str | None = None
        self.error_count = 0

    def add(self, raw: str) -> None:
        """Take one raw stderr line."""
        match = _LOG_PREFIX.match(raw)
        level = match.group("level") if match else None
        component = match.group("component") if match else None
        if level is None and component is None and self.level is not None:
            level, component = self.level, self.component  # continuation line
        else:
            self.level, self.component = level, component
        text = raw[match.end() :] if match else raw
        line = LogLine(text, level, component, self.clock())
        if level not in ("info", "verbose", "debug", "trace"):
            self.tail.append(raw.replace(f"[{level}] ", "", 1) if level else raw)
        self.error_count += line.is_error
        # Errors are kept beyond the limit (up to a point): they are what QC reports.
        if len(self.lines) < MAX_LOG_LINES or (line.is_error and self.error_count <= MAX_ERRORS):
            self.lines.append(line)
