"""Benchmark proxy-first processing and the segment-parallel ladder (issue 15).

Run from the repository root::

    .venv/bin/python bench/scaleout.py [--minutes 10] [--height 1080] [--chunk-seconds 120]
                                       [--workers 1,2,4] [--stack embedded,production]
                                       [--unpinned]

The source (made once, cached in ``bench/.cache/``) is a ``--minutes`` long 16:9 film of
``--height`` lines at 25 fps (``testsrc2`` with temporal noise, a keyframe every 2 s)
with a 48 kHz stereo tone.  First the machine: cores, CPU model, load average at start.
Then, all measured in this one run:

(a) time-to-reviewable against time-to-distributable: real Celery workers with
    ``MAM_PROXY_FIRST``; from the ingest's commit to the version ``ready`` (review copy,
    poster, thumbnails, sprite, QC) and to its ladder job ``succeeded``;
(b) the CPU time (user + system of every ffmpeg, ``RUSAGE_CHILDREN``) of the ladder in
    chunks (cut-point pass, each chunk, the sound, the joins; run one after the other in
    this process, pinned to one core) against the one-process ladder (the one-decode
    command, renditions only).  Target <= 1.05;
(c) the ladder's wall time with W = each of ``--workers``, on each ``--stack``:
    ``embedded`` (SQLite, local storage, the file broker) and ``production`` (PostgreSQL,
    Redis, S3 on moto over HTTP).  By default each of the W workers stands for a one-core
    machine: W Celery workers of one process each, worker i pinned to core i (``taskset``),
    ffmpeg and x264 on one thread.  W up to the number of cores is measured; for every W
    the makespan is also *computed* from the one-core times of (b) (each ffmpeg's CPU time:
    one thread, so its time on a free core, whatever the load): the first pass (loudness
    and cut points), the sound and chunk tasks list-scheduled in dispatch order on W
    workers, then the join; next to it the critical path (first pass + longest piece +
    join).  A W above the cores is only computed, and printed as such.  Speed-up =
    ladder(W=1) / ladder(W); target >= 0.8 W up to the number of chunks.  ``--unpinned``
    runs one worker with W processes and no pinning instead (what a host would run).
"""

from __future__ import annotations

import argparse
import heapq
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, select  # noqa: E402

from mam import migrate  # noqa: E402
from mam.config import Settings  # noqa: E402
from mam.models import Job, JobKind, JobState, Version  # noqa: E402
from mam.models.processing import LadderPiece  # noqa: E402
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


def machine() -> str:
    """Cores, CPU model and load average now (the figures mean little on a busy machine)."""
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores ({usable} usable), {model}; load average at start {load}"


@contextmanager
def pinned(core: int | None) -> Iterator[None]:
    """Run the block (and the ffmpeg it starts) on ``core`` only; None: leave it be."""
    if core is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def cpu_comparison(source: Path, chunk_seconds: float, threads: int, core: int | None
                   ) -> dict[str, Any]:  # fmt: skip
    """(b): the one-process ladder and the chunked ladder, one after the other, here."""
    settings = Settings.from_env({}, home=Path(tempfile.mkdtemp()))
    info = probe(source, display_name=source.name)
    plan = ladder.ladder_plan_for(info, settings)
    qc = cached_profiles(None).qc
    figures: dict[str, Any] = {"chunk_walls": [], "chunk_cpus": []}
    with tempfile.TemporaryDirectory(prefix="scaleout-bench-") as tmp, pinned(core):
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
            before, cpu = time.monotonic(), cpu_of_children()
            with measured(figures, "chunks"):
                chunked.encode_chunk(
                    str(source), info, plan, chunk, work / f"chunk{chunk.index}", threads=threads
                )
            figures["chunk_walls"].append(time.monotonic() - before)
            figures["chunk_cpus"].append(cpu_of_children() - cpu)
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


def list_schedule(durations: Sequence[float], workers: int) -> float:
    """The makespan of ``durations`` taken in order, each by the first worker to be free
    (what Celery does with one process per worker and a prefetch of one)."""
    free = [0.0] * workers
    for d in durations:
        heapq.heappush(free, heapq.heappop(free) + d)
    return max(free)


def predicted(b: dict[str, Any], workers: int) -> tuple[float, float]:
    """Computed from (b)'s one-core times: the makespan on ``workers`` one-core workers
    and the critical path (first pass + longest piece + join).  A piece's one-core time is
    the CPU time of its ffmpeg (one thread: what it takes on a core of its own), so the
    computed figures do not depend on the load of the machine they were measured on."""
    first = b["loudness_cpu"] + b["cuts_cpu"]
    header = [b["sound_cpu"], *b["chunk_cpus"]]  # the chord's dispatch order
    makespan = first + list_schedule(header, workers) + b["join_cpu"]
    return makespan, first + max(header) + b["join_cpu"]


def wait(check: Callable[[], bool], timeout: float) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise TimeoutError("gave up waiting")
        time.sleep(0.2)
    return time.monotonic() - start


def celery_run(settings: Settings, source: Path, workers: Sequence[tuple[int, Sequence[str]]],
               log: Path) -> dict[str, float]:  # fmt: skip
    """(a) and (c): ingest on real workers (each: its processes and its command prefix);
    time the stages."""
    rt = build_runtime(settings)
    try:
        with ExitStack() as stack:
            for i, (concurrency, prefix) in enumerate(workers):
                stack.enter_context(celery_worker(
                    settings, log.with_name(f"{log.stem}-{i}.log"), concurrency=concurrency,
                    prefix=prefix,
                ))  # fmt: skip
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
                raise RuntimeError(f"the ladder failed; see {log.parent}")
        with rt.db.session() as s:  # which worker made which piece (chunks, sound, join)
            made = s.scalars(
                select(LadderPiece.worker)
                .join(Job, Job.id == LadderPiece.job_id)
                .where(Job.version_id == vid)
            ).all()
        return {
            "reviewable": reviewable,
            "distributable": done - start,
            "ladder": done - ladder_started,
            "spread": sorted(Counter(w.split("@")[0][-4:] for w in made if w).values()),
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


def drop_schema(settings: Settings) -> None:
    if "search_path" not in settings.database_url:
        return
    schema = settings.database_url.rsplit("%3D", 1)[1]
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    engine.dispose()


def worker_layout(w: int, unpinned: bool, cores: int) -> list[tuple[int, Sequence[str]]]:
    """W one-process workers, worker i pinned to core i; or one worker of W processes."""
    if unpinned:
        return [(w, ())]
    return [(1, ("taskset", "-c", str(i % cores))) for i in range(w)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--chunk-seconds", type=int, default=120)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--stack", default="embedded,production")
    parser.add_argument("--threads", type=int, default=1, help="ffmpeg threads per process")
    parser.add_argument(
        "--unpinned",
        action="store_true",
        help="one worker of W processes, not pinned (W > cores is then run)",
    )
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"machine: {machine()}")
    source = make_source(args.minutes, args.height)
    mode = (
        "one worker of W processes, unpinned"
        if args.unpinned
        else ("W workers of one process, worker i pinned to core i")
    )
    print(f"source: {source.name}, {args.minutes:g} min at {args.height}p 25 fps; "
          f"chunks of {args.chunk_seconds} s; ffmpeg threads per process: {args.threads}; "
          f"{mode}")  # fmt: skip

    b = cpu_comparison(source, args.chunk_seconds, args.threads,
                       None if args.unpinned else 0)  # fmt: skip
    chunked_cpu = b["cuts_cpu"] + b["chunks_cpu"] + b["sound_cpu"] + b["join_cpu"]
    print(f"\n(b) CPU time of the ladder (s, user+system of every ffmpeg)"
          f"{'' if args.unpinned else ', run here on core 0'}")  # fmt: skip
    print(f"  one process        {b['single_cpu']:8.1f}   (wall {b['single_wall']:.1f})")
    print(f"  chunked            {chunked_cpu:8.1f}   = cut points {b['cuts_cpu']:.1f} + "
          f"{int(b['chunk_count'])} chunks {b['chunks_cpu']:.1f} + sound {b['sound_cpu']:.1f} + "
          f"joins {b['join_cpu']:.1f}")  # fmt: skip
    print(f"  ratio chunked / one process = {chunked_cpu / b['single_cpu']:.3f}  (target <= 1.05)")
    for kind in ("cpu", "wall"):
        each = " ".join(f"{w:.1f}" for w in b[f"chunk_{kind}s"])
        print(f"  {kind:4s}: first pass (loudness {b[f'loudness_{kind}']:.1f} + cut points "
              f"{b[f'cuts_{kind}']:.1f}); sound {b[f'sound_{kind}']:.1f}; chunks [{each}]; "
              f"join {b[f'join_{kind}']:.1f} s")  # fmt: skip

    base: dict[str, Any] = {
        "proxy_first": True, "chunk_min_seconds": 1, "chunk_seconds": args.chunk_seconds,
        "ffmpeg_threads": args.threads,
    }  # fmt: skip
    counts = [int(w) for w in args.workers.split(",")]
    pieces = int(b["chunk_count"]) + 1  # the chunks and the sound
    one, _ = predicted(b, 1)
    for stack in args.stack.split(","):
        with contextmanager_for(stack) as moto:
            print(f"\n(a)+(c) Celery workers, stack: {stack}")
            print("   W  reviewable  distributable  ladder  speed-up | computed: makespan "
                  "speed-up  critical path | target 0.8*min(W,chunks)")  # fmt: skip
            base_ladder = None
            for w in counts:
                makespan, critical = predicted(b, w)
                computed = (f"{makespan:8.1f}s {one / makespan:7.2f}x  {critical:8.1f}s     | "
                            f"{0.8 * min(w, pieces):6.2f}x")  # fmt: skip
                if w > cores and not args.unpinned:
                    print(f"  {w:2d}  (more workers than cores: not measured)           "
                          f"| {computed}")  # fmt: skip
                    continue
                home = Path(tempfile.mkdtemp(prefix="scaleout-home-"))
                settings = stack_settings(stack, home, base, moto)
                load_before = os.getloadavg()[0]
                try:
                    r = celery_run(settings, source, worker_layout(w, args.unpinned, cores),
                                   home / "worker.log")  # fmt: skip
                finally:
                    drop_schema(settings)
                base_ladder = base_ladder or r["ladder"]
                print(f"  {w:2d}  {r['reviewable']:9.1f}s  {r['distributable']:12.1f}s  "
                      f"{r['ladder']:6.1f}s  {base_ladder / r['ladder']:7.2f}x | {computed}"
                      f"  pieces per worker {r['spread']}; load {load_before:.1f} -> "
                      f"{os.getloadavg()[0]:.1f}")  # fmt: skip
                shutil.rmtree(home, ignore_errors=True)
    print("\nmeasured: wall times on this machine in this run; computed: from the CPU time "
          "of each ffmpeg in (b) (one thread: its time on a free core), no queue, storage or "
          "Celery overheads")  # fmt: skip


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
