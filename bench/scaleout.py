"""Benchmark proxy-first processing and the segment-parallel ladder (issue 15).

Run from the repository root::

    .venv/bin/python bench/scaleout.py [--minutes 10] [--height 1080] [--chunk-seconds 120]
                                       [--workers 1,2,4] [--stack embedded,production]

The source (made once, cached in ``bench/.cache/``) is a ``--minutes`` long 16:9 film of
``--height`` lines at 25 fps (``testsrc2`` with temporal noise, a keyframe every 2 s)
with a 48 kHz stereo tone.  Printed, all measured in this one run:

(a) time-to-reviewable against time-to-distributable: a real Celery worker with
    ``MAM_PROXY_FIRST``; from the ingest's commit to the version ``ready`` (review copy,
    poster, thumbnails, sprite, QC) and to its ladder job ``succeeded``;
(b) the CPU time (user + system of every ffmpeg, ``RUSAGE_CHILDREN``) of the ladder in
    chunks (cut-point pass, each chunk, the sound, the joins; run one after the other in
    this process) against the one-process ladder (the one-decode command, renditions
    only).  Target <= 1.05;
(c) the ladder's wall time on Celery workers with W = each of ``--workers`` worker
    processes (one ffmpeg thread each, so W processes use W cores), on each ``--stack``:
    ``embedded`` (SQLite, local storage, the file broker) and ``production`` (PostgreSQL,
    Redis, S3 on moto over HTTP), and the critical path measured in (b): the longest
    chunk plus the join.  Speed-up = wall(W=1) / wall(W); target >= 0.8 W up to the
    number of chunks and the machine's cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, select  # noqa: E402

from mam import migrate  # noqa: E402
from mam.config import Settings  # noqa: E402
from mam.models import Job, JobKind, JobState, Version  # noqa: E402
from mam.probe import probe  # noqa: E402
from mam.runtime import build_runtime  # noqa: E402
from mam.services.ingest import IngestService  # noqa: E402
from storage.testing import DUMMY_AWS_ENV, moto_server  # noqa: E402
from tests.workerproc import celery_worker  # noqa: E402
from workers import chunked, ladder  # noqa: E402
from workers.celery_app import make_celery  # noqa: E402
from workers.dispatch import CeleryQueue  # noqa: E402
from workers.ffmpeg import analysis  # noqa: E402
from workers.ffmpeg.commands import build_process_command  # noqa: E402
from workers.ffmpeg.runner import run_ffmpeg  # noqa: E402
from workers.profiles import cached_profiles  # noqa: E402

CACHE = REPO / "bench" / ".cache"
PG_URL = os.environ.get("MAM_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("MAM_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def make_source(minutes: float, height: int) -> Path:
    width = height * 16 // 9 // 2 * 2
    path = CACHE / f"scaleout-{minutes:g}min-{height}p.mp4"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    seconds = minutes * 60
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=25:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
         "-vf", "noise=alls=8:allf=t", "-c:v", "libx264", "-preset", "veryfast",
         "-g", "50", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def measured(into: dict[str, float], name: str) -> Iterator[None]:
    cpu, wall = cpu_of_children(), time.monotonic()
    yield
    into[f"{name}_cpu"] = into.get(f"{name}_cpu", 0.0) + cpu_of_children() - cpu
    into[f"{name}_wall"] = into.get(f"{name}_wall", 0.0) + time.monotonic() - wall


def cpu_comparison(source: Path, chunk_seconds: float, threads: int) -> dict[str, float]:
    """(b): the one-process ladder and the chunked ladder, one after the other, here."""
    settings = Settings.from_env({}, home=Path(tempfile.mkdtemp()))
    info = probe(source, display_name=source.name)
    plan = ladder.ladder_plan_for(info, settings)
    qc = cached_profiles(None).qc
    figures: dict[str, float] = {"chunk_max_wall": 0.0}
    with tempfile.TemporaryDirectory(prefix="scaleout-bench-") as tmp:
        work = Path(tmp)
        with measured(figures, "loudness"):
            log = run_ffmpeg(
                analysis.build_audio_analysis_command(str(source), info, qc), duration=None
            ).log
        loud = analysis.parse_loudnorm(log, analysis.MEASURE)
        whole = work / "whole"
        for sub in plan.directories():
            (whole / sub).mkdir(parents=True, exist_ok=True)
        with measured(figures, "single"):
            argv = build_process_command(
                str(source), info, str(whole), plan, measured=loud, threads=threads
            )
            run_ffmpeg(argv, duration=None)
        with measured(figures, "cuts"):
            found = chunked.find_chunks(str(source), info, plan, chunk_seconds)
        pieces = []
        for chunk in found:
            before = time.monotonic()
            with measured(figures, "chunks"):
                chunked.encode_chunk(
                    str(source), info, plan, chunk, work / f"chunk{chunk.index}", threads=threads
                )
            figures["chunk_max_wall"] = max(figures["chunk_max_wall"], time.monotonic() - before)
            pieces.append((work / f"chunk{chunk.index}", chunk))
        with measured(figures, "sound"):
            chunked.encode_audio(str(source), info, plan, work / "sound", measured=loud)
        out = work / "joined"
        for h in plan.hls:
            (out / h.spec.name).mkdir(parents=True, exist_ok=True)
        with measured(figures, "join"):
            chunked.join(plan, pieces, work / "sound", out)
    figures["chunk_count"] = len(found)
    return figures


def wait(check: Callable[[], bool], timeout: float) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise TimeoutError("gave up waiting")
        time.sleep(0.2)
    return time.monotonic() - start


def celery_run(settings: Settings, source: Path, concurrency: int, log: Path) -> dict[str, float]:
    """(a) and (c): ingest on a real worker with ``concurrency`` processes; time the stages."""
    rt = build_runtime(settings)
    try:
        with celery_worker(settings, log, concurrency=concurrency):
            queue = CeleryQueue(make_celery(settings))
            with rt.db.session(queue=queue) as s:
                vid = (
                    IngestService(s, rt.storage)
                    .ingest_file(
                        source, programme="基准测试", title=f"分段转码 {uuid.uuid4().hex[:6]}"
                    )
                    .version.id
                )
            start = time.monotonic()

            def version_state() -> str:
                with rt.db.session() as s:
                    return s.get_one(Version, vid).state.value

            def ladder_state() -> JobState | None:
                with rt.db.session() as s:
                    query = select(Job.state).where(
                        Job.version_id == vid, Job.kind == JobKind.LADDER
                    )
                    return s.scalar(query)

            wait(lambda: version_state() in ("ready", "failed"), 3600)
            reviewable = time.monotonic() - start
            ladder_started = time.monotonic()
            wait(lambda: ladder_state() in (JobState.SUCCEEDED, JobState.FAILED), 3600)
            done = time.monotonic()
            if ladder_state() is not JobState.SUCCEEDED:
                raise RuntimeError(f"the ladder failed; see {log}")
        return {
            "reviewable": reviewable,
            "distributable": done - start,
            "ladder": done - ladder_started,
        }
    finally:
        rt.close()


def stack_settings(stack: str, home: Path, base: dict[str, Any], moto: str | None) -> Settings:
    if stack == "embedded":
        settings = Settings.from_env({}, home=home, **base)
        migrate.upgrade(settings.database_url)
        return settings
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine.dispose()
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    return Settings.from_env(
        {}, home=home, database_url=url, broker_url=REDIS_URL, storage_backend="s3",
        s3_bucket=f"bench-{uuid.uuid4().hex[:8]}", s3_endpoint_url=moto, s3_create_bucket=True,
        **base,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--chunk-seconds", type=int, default=120)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--stack", default="embedded,production")
    parser.add_argument("--threads", type=int, default=1, help="ffmpeg threads per process")
    args = parser.parse_args()
    source = make_source(args.minutes, args.height)
    print(f"source: {source.name}, {args.minutes:g} min at {args.height}p 25 fps; "
          f"chunks of {args.chunk_seconds} s; {os.cpu_count()} CPUs; "
          f"ffmpeg threads per process: {args.threads}")  # fmt: skip

    b = cpu_comparison(source, args.chunk_seconds, args.threads)
    chunked_cpu = b["cuts_cpu"] + b["chunks_cpu"] + b["sound_cpu"] + b["join_cpu"]
    critical = b["chunk_max_wall"] + b["join_wall"]
    print("\n(b) CPU time of the ladder (s, user+system of every ffmpeg)")
    print(f"  one process        {b['single_cpu']:8.1f}   (wall {b['single_wall']:.1f})")
    print(f"  chunked            {chunked_cpu:8.1f}   = cut points {b['cuts_cpu']:.1f} + "
          f"{int(b['chunk_count'])} chunks {b['chunks_cpu']:.1f} + sound {b['sound_cpu']:.1f} + "
          f"joins {b['join_cpu']:.1f}")  # fmt: skip
    print(f"  ratio chunked / one process = {chunked_cpu / b['single_cpu']:.3f}  (target <= 1.05)")
    print(f"  critical path: longest chunk {b['chunk_max_wall']:.1f} s + join "
          f"{b['join_wall']:.1f} s = {critical:.1f} s")  # fmt: skip

    base: dict[str, Any] = {
        "proxy_first": True, "chunk_min_seconds": 1, "chunk_seconds": args.chunk_seconds,
        "ffmpeg_threads": args.threads,
    }  # fmt: skip
    counts = [int(w) for w in args.workers.split(",")]
    for stack in args.stack.split(","):
        with contextmanager_for(stack) as moto:
            print(f"\n(a)+(c) Celery workers, stack: {stack}")
            print("   W  reviewable  distributable  ladder  speed-up  0.8*min(W,chunks)")
            first = None
            for w in counts:
                home = Path(tempfile.mkdtemp(prefix="scaleout-home-"))
                settings = stack_settings(stack, home, base, moto)
                r = celery_run(settings, source, w, home / "worker.log")
                first = first or r["ladder"]
                bound = 0.8 * min(w, int(b["chunk_count"]))
                print(f"  {w:2d}  {r['reviewable']:9.1f}s  {r['distributable']:12.1f}s  "
                      f"{r['ladder']:6.1f}s  {first / r['ladder']:7.2f}x  {bound:6.2f}x")  # fmt: skip
                shutil.rmtree(home, ignore_errors=True)


@contextmanager
def contextmanager_for(stack: str) -> Iterator[str | None]:
    if stack != "production":
        yield None
        return
    os.environ.update(DUMMY_AWS_ENV)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    with moto_server() as url:
        yield url


if __name__ == "__main__":
    main()
