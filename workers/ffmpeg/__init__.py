"""ffmpeg command builders (pure) and the runner that executes them."""

from __future__ import annotations

from workers.ffmpeg.commands import (
    Mp4Rendition,
    PosterSpec,
    build_process_command,
    output_paths,
)
from workers.ffmpeg.runner import (
    Progress,
    ProgressParser,
    classify_ffmpeg_error,
    parse_progress_line,
    run_ffmpeg,
)

__all__ = [
    "Mp4Rendition",
    "PosterSpec",
    "Progress",
    "ProgressParser",
    "build_process_command",
    "classify_ffmpeg_error",
    "output_paths",
    "parse_progress_line",
    "run_ffmpeg",
]
