"""Run the chunked ladder (see ``workers.ffmpeg.chunks``): plan, encode pieces, join.

The functions here run ffmpeg on local files; where the pieces are encoded (threads
of one process, Celery workers on other machines sharing nothing but storage) is the
caller's business: ``workers.tasks.chunks`` moves the pieces through storage.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from mam.probe import MediaInfo
from workers.ffmpeg import chunks
from workers.ffmpeg.analysis import LoudnessMeasurement
from workers.ffmpeg.branding import BrandingInputs, shift_vtt
from workers.ffmpeg.plan import EncodePlan
from workers.ffmpeg.runner import Progress, run_ffmpeg

STALL_SECONDS = 600


def find_chunks(
    source: str, info: MediaInfo, plan: EncodePlan, chunk_seconds: float
) -> tuple[chunks.Chunk, ...]:
    """The first pass: the source's keyframes (packets only), then the cut points."""
    video = info.primary_video
    assert video is not None  # noqa: S101 - checked before
    argv = chunks.keyframe_probe_command(source, video.index)
    listing = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=600)
    keys = chunks.parse_keyframes(listing.stdout, plan.rate, video.start_time or 0.0)
    frames = chunks.total_frames(info, plan.rate)
    return chunks.plan_chunks(frames, plan.rate, chunk_seconds, chunks.align_frames(plan), keys)


def encode_chunk(
    source: str,
    info: MediaInfo,
    plan: EncodePlan,
    chunk: chunks.Chunk,
    outdir: Path,
    *,
    threads: int = 0,
    timeout: float | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    branding: BrandingInputs | None = None,
) -> list[Path]:
    """Encode one chunk's video ladder into ``outdir``; return the files written.

    ``branding``'s subtitle files are the whole film's: each is re-timed for this chunk
    (``shift_vtt``) before it is burned in."""
    outdir.mkdir(parents=True, exist_ok=True)
    branding = chunk_branding(branding, chunk, plan.rate, outdir)
    argv = chunks.chunk_command(source, info, plan, chunk, str(outdir), threads, branding)
    run_ffmpeg(
        argv,
        duration=chunk.seconds(plan.rate),
        on_progress=on_progress,
        timeout=timeout,
        stall_timeout=STALL_SECONDS,
    )
    return [outdir / chunks.video_file(name) for name in chunks.video_outputs(plan)]


def chunk_branding(
    branding: BrandingInputs | None, chunk: chunks.Chunk, rate: Fraction, outdir: Path
) -> BrandingInputs | None:
    """Return ``branding`` with its subtitle files re-timed for ``chunk`` (written beside
    the chunk's outputs, not uploaded: only the video files are)."""
    if branding is None or not branding.subtitles:
        return branding
    offset = float(chunk.first_frame / rate)
    files = {}
    for n, (language, path) in enumerate(sorted(branding.subtitles.items())):
        text = Path(path).read_text(encoding="utf-8")
        mine = outdir / f"captions-{n}-chunk{chunk.index}.vtt"
        mine.write_text(shift_vtt(text, offset, chunk.seconds(rate)), encoding="utf-8")
        files[language] = str(mine)
    return replace(branding, subtitles=files)


def encode_audio(
    source: str,
    info: MediaInfo,
    plan: EncodePlan,
    outdir: Path,
    *,
    measured: LoudnessMeasurement | None,
    timeout: float | None = None,
) -> list[Path]:
    """Encode the whole film's sound once per ladder output; return the files written."""
    outdir.mkdir(parents=True, exist_ok=True)
    argv = chunks.audio_command(source, info, plan, str(outdir), measured=measured)
    run_ffmpeg(argv, duration=info.duration, timeout=timeout, stall_timeout=STALL_SECONDS)
    return [outdir / chunks.audio_file(name) for name in chunks.video_outputs(plan)]


def _concat(
    name: str, pieces: Sequence[tuple[Path, chunks.Chunk]], rate: Fraction, work: Path
) -> Path:
    script = work / f"concat_{name.replace('/', '_')}.txt"
    listed = [(d / chunks.video_file(name), c.seconds(rate)) for d, c in pieces]
    script.write_text(chunks.concat_list(listed), encoding="utf-8")
    return script


def join(
    plan: EncodePlan,
    pieces: Sequence[tuple[Path, chunks.Chunk]],
    audio_dir: Path,
    out: Path,
    *,
    timeout: float | None = None,
) -> None:
    """Join the chunks (in order: each chunk's directory) and the sound into the outputs
    the one-decode command would have written under ``out`` (no re-encoding)."""
    ordered = sorted(pieces, key=lambda p: p[1].index)
    work = out / ".join"
    work.mkdir(parents=True, exist_ok=True)
    ladder = chunks.ladder_plan(plan)
    for m in ladder.mp4:
        script = _concat(m.spec.name, ordered, plan.rate, work)
        argv = chunks.join_mp4_command(
            script, audio_dir / chunks.audio_file(m.spec.name), out / m.file,
            faststart=m.spec.faststart,
        )  # fmt: skip
        run_ffmpeg(argv, duration=None, timeout=timeout, stall_timeout=STALL_SECONDS)
    for h in ladder.hls:
        names = [f"{h.spec.name}/{r.name}" for r in h.rungs]
        scripts = [_concat(n, ordered, plan.rate, work) for n in names]
        sounds = [audio_dir / chunks.audio_file(n) for n in names]
        (out / h.spec.name).mkdir(parents=True, exist_ok=True)
        argv = chunks.join_hls_command(h, scripts, sounds, str(out), plan.rate)
        run_ffmpeg(argv, duration=None, timeout=timeout, stall_timeout=STALL_SECONDS)
    for script in work.iterdir():
        script.unlink()
    work.rmdir()
