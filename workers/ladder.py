"""The distribution ladder of a proxy-first version: in one ffmpeg run, or in chunks.

``ladder_source`` runs inside the ladder job's claimed attempt (``LadderService.begin``):

* a source shorter than ``MAM_CHUNK_MIN_SECONDS``, or one that is not at a constant
  standard rate, is encoded in one ffmpeg run here and published;
* a long one gets the film's loudness pass 1 and its cut points (``workers.chunked``),
  then a Celery chord: one task per chunk and one for the sound (header, any worker of
  the transcode queue), then the join (body).  The job stays ``running`` under the same
  attempt; every piece renews its lease and stops if the attempt was superseded.  The
  pieces travel through storage under ``tmp/ladder/<job>-<attempt>/`` (workers share no
  disk), so a worker lost mid-chunk costs that chunk: its task, acknowledged late, is
  delivered to another worker.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from mam.config import Settings
from mam.errors import InvalidMedia, ProcessingError
from mam.leases import Lease
from mam.messages import processing
from mam.models import Job
from mam.probe import MediaInfo
from mam.services.processing import ProcessingPlan, ProcessingResult
from storage import Storage
from workers import chunked
from workers.ffmpeg import analysis, chunks
from workers.ffmpeg.branding import BrandingInputs, card_seconds
from workers.ffmpeg.commands import build_process_command
from workers.ffmpeg.plan import EncodePlan, plan_encode
from workers.ffmpeg.runner import Progress, run_ffmpeg
from workers.outputs import collect_outputs, picture_duration
from workers.pipeline import branding_inputs
from workers.profiles import cached_profiles
from workers.qc import blocking_errors, build_report, failure_parts

REVIEW_PROFILE = "proxy"  # made by the first, fast job of a proxy-first version
STALL_SECONDS = 600


def review_renditions(settings: Settings) -> tuple[str, ...]:
    """Return the profiles of the first job of a proxy-first run (the review copy)."""
    names = cached_profiles(settings.profiles).names
    return tuple(n for n in names if n == REVIEW_PROFILE)


def ladder_plan_for(info: MediaInfo, settings: Settings) -> EncodePlan:
    """Return the ladder's encode plan: every profile but the review copy."""
    profiles = cached_profiles(settings.profiles)
    wanted = [r for r in profiles.renditions if r.name != REVIEW_PROFILE]
    try:
        return chunks.ladder_plan(plan_encode(info, wanted))
    except InvalidMedia as exc:
        raise ProcessingError(exc.said, params=exc.params, permanent=True) from exc


def staging_prefix(job_id: int, attempt: int) -> str:
    return f"tmp/ladder/{job_id}-{attempt}/"


@contextmanager
def _work_dir(settings: Settings, label: str) -> Iterator[Path]:
    base = Path(settings.work_dir or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{label}-", dir=base) as tmp:
        yield Path(tmp)


def measure(
    source: str, info: MediaInfo, settings: Settings
) -> analysis.LoudnessMeasurement | None:
    """Loudness pass 1 of the whole film (audio decode only)."""
    if info.primary_audio is None:
        return None
    qc = cached_profiles(settings.profiles).qc
    argv = analysis.build_audio_analysis_command(source, info, qc)
    result = run_ffmpeg(argv, duration=info.duration, stall_timeout=STALL_SECONDS)
    return analysis.parse_loudnorm(result.log, analysis.MEASURE)


def has_cards(plan: ProcessingPlan, settings: Settings) -> bool:
    """Say whether a profile of the ladder adds a slate or closing card to this film."""
    encode = ladder_plan_for(plan.media_info, settings)
    inputs = BrandingInputs(slate_lines=plan.slate_lines)
    specs = [m.spec for m in encode.mp4] + [h.spec for h in encode.hls]
    return any(card_seconds(spec.branding, inputs) for spec in specs)


def should_chunk(info: MediaInfo, settings: Settings, *, cards: bool = False) -> bool:
    """Say whether the ladder runs in chunks: a long film at a constant standard rate whose
    profiles add no slate or closing card (those are made by the one-piece run)."""
    return (
        settings.chunk_min_seconds > 0
        and info.duration >= settings.chunk_min_seconds
        and chunks.chunkable(info)
        and not cards
    )


def check_outputs(out: Path, plan: EncodePlan, info: MediaInfo, version_id: int,
                  settings: Settings, branding: BrandingInputs | None = None,
                  ) -> ProcessingResult:  # fmt: skip
    """Probe the ladder's outputs, refuse unfit ones (QC durations, streams), return them."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        collected = collect_outputs(version_id, out, plan, pool, branding)
    report = build_report(
        duration=picture_duration(info),
        frame_seconds=1 / float(plan.rate),
        source_has_audio=info.has_audio,
        outputs=collected.checks,
        black=[], freezes=[], silences=[], decode_errors=[], decode_error_count=0,
        source_loudness=None, loudness=[],
        spec=cached_profiles(settings.profiles).qc,
    )  # fmt: skip
    if blocking_errors(report):
        raise ProcessingError(
            processing.QC_FAILED, params={"reason": failure_parts(report)}, permanent=True
        )
    made = collected.result(out, None, {}, {})
    return replace(made, thumbnails=None, qc_report=None, loudness=None)


def encode_whole(
    plan: ProcessingPlan,
    source: str,
    settings: Settings,
    on_progress: Callable[[Progress], None],
    storage: Storage,
) -> tuple[Path, EncodePlan, tempfile.TemporaryDirectory[str], BrandingInputs]:
    """Encode the ladder in one ffmpeg run (the one-decode command, renditions only), with
    the profiles' branding: logo, burned-in captions, slate and closing card."""
    encode = ladder_plan_for(plan.media_info, settings)
    measured = measure(source, plan.media_info, settings)
    base = Path(settings.work_dir or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.TemporaryDirectory(prefix=f"ladder{plan.job_id}-", dir=base)
    out = Path(tmp.name)
    for sub in encode.directories():
        (out / sub).mkdir(parents=True, exist_ok=True)
    branding = branding_inputs(plan, storage, encode, out)
    argv = build_process_command(
        source, plan.media_info, str(out), encode, measured=measured,
        threads=settings.ffmpeg_threads, branding=branding,
    )  # fmt: skip
    run_ffmpeg(argv, duration=plan.media_info.duration, on_progress=on_progress,
               stall_timeout=STALL_SECONDS)  # fmt: skip
    return out, encode, tmp, branding


def prepare_chunks(
    plan: ProcessingPlan, source: str, settings: Settings
) -> tuple[tuple[chunks.Chunk, ...], dict[str, Any] | None]:
    """The first pass of a chunked ladder: cut points and the film's loudness pass 1."""
    encode = ladder_plan_for(plan.media_info, settings)
    found = chunked.find_chunks(source, plan.media_info, encode, settings.chunk_seconds)
    measured = measure(source, plan.media_info, settings)
    return found, (measured.to_dict() if measured else None)


# --- the pieces, run by workers.tasks.chunks -------------------------------------------


def piece_lease(bind: Any, job_id: int, attempt: int, settings: Settings) -> Lease:
    return Lease(bind, Job, job_id, attempt, timedelta(seconds=settings.lease_seconds))


@contextmanager
def source_for(storage: Storage, key: str) -> Iterator[str]:
    """Yield what ffmpeg should read: a local path, a presigned URL (ffmpeg seeks in it by
    range requests, so a chunk reads its stretch only), or a local copy."""
    local = storage.local_path(key)
    if local is not None:
        yield os.fspath(local)
        return
    url = storage.presigned_url(key, expires=6 * 3600)
    if url is not None:
        yield url
        return
    with storage.local_copy(key) as copy:
        yield os.fspath(copy)


def upload_piece(storage: Storage, prefix: str, files: list[Path], lease: Lease) -> list[str]:
    keys = []
    for path in files:
        key = f"{prefix}{path.parent.name}/{path.name}"
        storage.put_file(key, path, content_type="video/mp4")
        lease.renew()
        keys.append(key)
    return keys


def download_pieces(storage: Storage, keys: list[str], into: Path) -> None:
    for key in keys:
        parts = key.rstrip("/").split("/")
        target = into / parts[-2] / parts[-1]
        target.parent.mkdir(parents=True, exist_ok=True)
        storage.download_to(key, target)


def join_pieces(work: Path, encode: EncodePlan, found: list[chunks.Chunk], out: Path) -> None:
    """Join the downloaded pieces (``work/chunk<i>/``, ``work/sound/``) into ``out``."""
    for h in encode.hls:
        (out / h.spec.name).mkdir(parents=True, exist_ok=True)
    pieces = [(work / f"chunk{c.index}", c) for c in found]
    chunked.join(encode, pieces, work / "sound", out)


def remove_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
