"""Run ffmpeg for a processing plan and hand the checked outputs to ``publish``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from mam.config import Settings
from mam.errors import InvalidMedia, ProcessingError
from mam.probe import MediaInfo, probe
from mam.services.processing import OutputFile, ProcessingPlan, rendition_key
from storage import Storage
from workers.ffmpeg.commands import build_process_command, output_paths
from workers.ffmpeg.runner import Progress, run_ffmpeg
from workers.profiles import POSTER, PROXY

# Leave ffmpeg this much of the task's soft time limit to be killed cleanly first.
KILL_MARGIN = 60


def process_source(
    plan: ProcessingPlan,
    storage: Storage,
    settings: Settings,
    *,
    on_progress: Callable[[Progress], None],
    publish: Callable[[Sequence[OutputFile]], None],
) -> None:
    """Make the proxy and poster of ``plan``'s source and publish them."""
    info = plan.media_info
    if not info.has_video:
        raise ProcessingError(f"{plan.source_name}: no video stream to process", permanent=True)
    work_dir = Path(settings.work_dir or tempfile.gettempdir())
    work_dir.mkdir(parents=True, exist_ok=True)
    renditions = [PROXY]
    with (
        storage.local_copy(plan.source_key) as source,
        tempfile.TemporaryDirectory(prefix=f"job{plan.job_id}-", dir=work_dir) as out,
    ):
        argv = build_process_command(
            os.fspath(source), info, out, renditions, POSTER, threads=settings.ffmpeg_threads
        )
        run_ffmpeg(
            argv,
            duration=info.duration,
            on_progress=on_progress,
            timeout=max(settings.transcode_soft_time_limit - KILL_MARGIN, 30),
        )
        paths = output_paths(out, renditions, POSTER)
        outputs = [
            OutputFile(
                profile="poster" if name == POSTER.name else name,
                path=Path(path),
                key=rendition_key(
                    plan.version_id, "poster" if name == POSTER.name else name, Path(path).name
                ),
                media_info=_check_output(Path(path), info, is_video=name != POSTER.name),
            )
            for name, path in paths.items()
        ]
        publish(outputs)


def _check_output(path: Path, source: MediaInfo, *, is_video: bool) -> MediaInfo:
    """Probe an output; refuse to publish one that is missing, unreadable or cut short."""
    try:
        info = probe(path, display_name=path.name)
    except InvalidMedia as exc:
        raise ProcessingError(
            f"output {path.name} is unusable: {exc.message}", permanent=True
        ) from exc
    if is_video:
        if not (info.has_video and info.has_audio):
            raise ProcessingError(
                f"output {path.name} lacks a video or audio track", permanent=True
            )
        # Allow a frame or two of container rounding plus the audio priming delay.
        if source.duration and abs(info.duration - source.duration) > max(
            0.25, 0.02 * source.duration
        ):
            raise ProcessingError(
                f"output {path.name} lasts {info.duration:.2f}s but the source "
                f"{source.duration:.2f}s; the source may be damaged",
                permanent=True,
            )
    return info
