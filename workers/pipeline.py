"""Process one source: analyse, encode everything in one decode, check, hand over to publish.

The runs, in order (each through ``workers.ffmpeg.runner.run_ffmpeg``):

1. the audio pre-pass: loudness pass 1 and silence detection (audio decode only);
2. the one decode: every rendition (MP4s and the HLS ladder, loudness pass 2),
   the evenly spaced thumbnails, the poster candidates and sprite cells, black and
   freeze detection;
3. a small stills run on those little JPEGs (sprite sheets, the poster), while the
   outputs are probed in parallel.

Then the QC report is built.  Outputs that are unfit (an output grossly shorter or
longer than the source, see ``workers.qc``; a missing stream) are never published: the
run fails permanently with the QC report stored.  Otherwise ``publish`` receives a
``ProcessingResult``.  Temporary files live in one directory per attempt, removed
on every way out; a directory left by a killed worker is removed by the next attempt
of the job or by the reconciler's sweep.

Decisions:

* an audio-only file (also an MP3 with cover art) fails with "no video stream": the
  deliverables are films, and a still picture would pass a silent test screen off
  as a programme;
* a header claiming frames larger than 8192x8192 (or 36 megapixels) fails before
  ffmpeg allocates a single such frame;
* a run that exceeds the task's time budget, or reports no progress for
  ``STALL_SECONDS``, is killed and the job fails with that reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mam.config import Settings
from mam.errors import InvalidMedia, ProcessingError
from mam.messages import processing
from mam.probe import MediaInfo
from mam.services.processing import ProcessingPlan, ProcessingResult
from storage import Storage
from workers.ffmpeg import analysis, stills
from workers.ffmpeg.branding import BrandingInputs, wrap_vtt
from workers.ffmpeg.commands import build_process_command
from workers.ffmpeg.plan import CANDIDATES, CELLS, EncodePlan, plan_encode
from workers.ffmpeg.runner import Progress, RunResult, run_ffmpeg
from workers.ffmpeg.specs import ProfileSet
from workers.outputs import collect_outputs, picture_duration
from workers.profiles import cached_profiles
from workers.qc import SourceSpan, blocking_errors, build_report, failure_parts

# Leave ffmpeg this much of the task's soft time limit to be killed cleanly first.
KILL_MARGIN = 60
STALL_SECONDS = 600
MAX_SIDE = 8192
MAX_PIXELS = 36_000_000
# Share of the progress bar per stage: pre-pass, one decode, stills and checks.
STAGES = {"analysis": (0.0, 4.0), "encode": (4.0, 95.0), "stills": (95.0, 99.0)}


class _Progress:
    """Map each run's own 0-100 % onto its stage of the job's progress bar."""

    def __init__(self, callback: Callable[[Progress], None]) -> None:
        self.callback = callback
        self.percent = 0.0

    def stage(self, name: str) -> Callable[[Progress], None]:
        low, high = STAGES[name]

        def report(p: Progress) -> None:
            self.at(low + (high - low) * p.percent / 100, p.eta if name == "encode" else None)

        return report

    def at(self, percent: float, eta: float | None = None, out_time: float = 0.0) -> None:
        self.percent = max(self.percent, percent)  # never goes backwards
        self.callback(Progress(self.percent, out_time, None, eta))


def check_source(info: MediaInfo, name: str) -> None:
    """Refuse, before running ffmpeg, a source that cannot become a film deliverable."""
    video = info.primary_video
    if video is None:
        raise ProcessingError(processing.NO_VIDEO, params={"file": name}, permanent=True)
    if (
        max(video.width, video.height) > MAX_SIDE
        or video.width * video.height > MAX_PIXELS
        or min(video.width, video.height) < 2
    ):
        raise ProcessingError(
            processing.FRAME_SIZE,
            params={
                "file": name,
                "width": video.width,
                "height": video.height,
                "side": MAX_SIDE,
                "megapixels": MAX_PIXELS // 1_000_000,
            },
            permanent=True,
        )
    if info.duration <= 0:
        raise ProcessingError(processing.NO_DURATION, params={"file": name}, permanent=True)


def source_span(info: MediaInfo) -> SourceSpan | None:
    """Return where the source's picture and sound start and end (None if unknown)."""
    video, audio = info.primary_video, info.primary_audio
    if video is None or video.start_time is None:
        return None
    picture = picture_duration(info)
    sound_start = sound_end = None
    if audio is not None and audio.start_time is not None and audio.duration:
        sound_start, sound_end = audio.start_time, audio.start_time + audio.duration
    return SourceSpan(video.start_time, video.start_time + picture, sound_start, sound_end)


def remove_leftovers(work_dir: Path, job_id: int) -> None:
    """Remove temporary directories an earlier, killed attempt of this job left behind."""
    for path in work_dir.glob(f"job{job_id}-*"):
        shutil.rmtree(path, ignore_errors=True)


def sweep_work_dir(work_dir: Path, older_than: float) -> int:
    """Remove job directories untouched for ``older_than`` seconds; return how many."""
    count = 0
    cutoff = time.time() - older_than
    for path in work_dir.glob("job*-*") if work_dir.is_dir() else ():
        try:
            if path.is_dir() and path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
                count += 1
        except FileNotFoundError:
            continue
    return count


def _audio_prepass(
    source: str, info: MediaInfo, profiles: ProfileSet, progress: _Progress, budget: _Budget
) -> tuple[analysis.LoudnessMeasurement | None, list[analysis.Segment]]:
    if info.primary_audio is None:
        return None, []
    argv = analysis.build_audio_analysis_command(source, info, profiles.qc)
    result = run_ffmpeg(
        argv,
        duration=info.duration,
        on_progress=progress.stage("analysis"),
        timeout=budget.left(),
        stall_timeout=STALL_SECONDS,
    )
    measured = analysis.parse_loudnorm(result.log, analysis.MEASURE)
    return measured, analysis.parse_silences(result.log, info.duration)


class _Budget:
    """The time left of the task's soft limit, minus a margin to stop ffmpeg cleanly."""

    def __init__(self, settings: Settings) -> None:
        self.limit = settings.transcode_soft_time_limit
        self.deadline = time.monotonic() + max(self.limit - KILL_MARGIN, 30)

    def left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ProcessingError(
                processing.TIME_LIMIT,
                params={"seconds": self.limit},
                permanent=True,
            )
        return left


def _stills(
    info: MediaInfo, out: Path, plan: EncodePlan, budget: _Budget
) -> stills.SpriteLayout | None:
    """Run the stills command; return the sprite layout (None without cells)."""
    cells = len(list((out / CELLS).glob("*.jpg")))
    candidates = len(list((out / CANDIDATES).glob("*.jpg")))
    layout = stills.sprite_layout(plan, cells)
    (out / stills.THUMBS).mkdir(exist_ok=True)
    argv = stills.build_stills_command(str(out), plan, layout=layout, candidates=candidates)
    if argv is not None:
        run_ffmpeg(argv, duration=None, timeout=budget.left(), stall_timeout=STALL_SECONDS)
    poster = out / stills.THUMBS / stills.POSTER
    picks = sorted((out / CANDIDATES).glob("*.jpg"))
    if plan.poster is not None and not poster.exists() and picks:
        # Every candidate was black or blank: the film is; take one from the middle.
        shutil.copyfile(picks[len(picks) // 2], poster)
    if layout is not None:
        (out / stills.THUMBS / stills.VTT).write_text(
            stills.webvtt_thumbnails(layout, info.duration), encoding="utf-8"
        )
    return layout


def branding_inputs(
    plan: ProcessingPlan, storage: Storage, encode: EncodePlan, out: Path
) -> BrandingInputs:
    """Write the subtitles the branded profiles burn in (long lines pre-wrapped: libass
    does not break Chinese) into ``out`` and return what the command builder needs."""
    specs = [m.spec.branding for m in encode.mp4] + [h.spec.branding for h in encode.hls]
    wanted = {b.captions: b.caption_size for b in specs if b and b.captions}
    files: dict[str, str] = {}
    video = plan.media_info.primary_video
    for language, size in wanted.items():
        key = plan.subtitle_keys.get(language)
        if not key or video is None:
            continue
        with storage.open(key) as stream:
            text = stream.read().decode("utf-8")
        path = out / f"captions-{len(files)}.vtt"
        width, height = video.display_width, video.display_height
        path.write_text(wrap_vtt(text, width, height, size), encoding="utf-8")
        files[language] = str(path)
    return BrandingInputs(subtitles=files, slate_lines=plan.slate_lines)


def process_source(
    plan: ProcessingPlan,
    storage: Storage,
    settings: Settings,
    *,
    on_progress: Callable[[Progress], None],
    publish: Callable[[ProcessingResult], None],
    profiles: ProfileSet | None = None,
) -> None:
    """Make every deliverable of ``plan``'s source, check them and publish them."""
    profiles = profiles or cached_profiles(settings.profiles)
    info = plan.media_info
    check_source(info, plan.source_name)
    budget = _Budget(settings)
    progress = _Progress(on_progress)
    work_dir = Path(settings.work_dir or tempfile.gettempdir())
    work_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(work_dir, plan.job_id)
    with (
        storage.local_copy(plan.source_key) as local,
        tempfile.TemporaryDirectory(prefix=f"job{plan.job_id}-", dir=work_dir) as tmp,
    ):
        source, out = os.fspath(local), Path(tmp)
        measured, silences = _audio_prepass(source, info, profiles, progress, budget)
        try:
            encode = plan_encode(
                info,
                profiles.renditions,
                poster=profiles.poster,
                sprite=profiles.sprite,
                qc=profiles.qc,
                thumbnails=profiles.thumbnails,
            )
        except InvalidMedia as exc:
            raise ProcessingError(
                exc.said, params=exc.params, detail=exc.detail, permanent=True
            ) from exc
        for sub in encode.directories():
            (out / sub).mkdir(parents=True, exist_ok=True)
        branding = branding_inputs(plan, storage, encode, out)
        argv = build_process_command(
            source, info, str(out), encode, measured=measured, threads=settings.ffmpeg_threads,
            branding=branding,
        )  # fmt: skip
        result: RunResult = run_ffmpeg(
            argv,
            duration=info.duration,
            on_progress=progress.stage("encode"),
            timeout=budget.left(),
            stall_timeout=STALL_SECONDS,
        )
        with ThreadPoolExecutor(max_workers=4) as pool:
            layout_future = pool.submit(_stills, info, out, encode, budget)
            collected = collect_outputs(plan.version_id, out, encode, pool, branding)
            layout = layout_future.result()
        progress.at(STAGES["stills"][1])
        errors = analysis.decode_errors(result.log)
        report = build_report(
            duration=picture_duration(info),
            frame_seconds=1 / float(encode.rate),
            source_has_audio=info.has_audio,
            outputs=collected.checks,
            black=analysis.parse_black(result.log),
            freezes=analysis.parse_freezes(result.log, info.duration),
            silences=silences,
            decode_errors=errors,
            # Beyond the lines kept, the runner only counted them.
            decode_error_count=max(len(errors), result.error_count) if errors else 0,
            source_loudness=measured,
            loudness=collected.loudness_results(result.log, measured),
            spec=profiles.qc,
            span=source_span(info),
        )
        loudness = report["loudness"]
        if blocking_errors(report):
            report["reason"] = failure_parts(report)  # the pages translate it
            raise ProcessingError(
                processing.QC_FAILED,
                params={"reason": failure_parts(report)},
                permanent=True,
                qc_report=report,
                loudness=loudness,
            )
        publish(collected.result(out, layout, report, loudness))
    progress.at(100.0)
