"""The chunked ladder on real Celery workers: a chord of chunk tasks and a join, the pieces
through storage (S3 on moto: the workers share no disk) or the embedded default."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from mam.config import Settings
from mam.models import Job, JobKind, JobState, Version, VersionState
from mam.runtime import Runtime
from tests.conftest import make_settings
from tests.workerproc import celery_worker
from tests.workers import test_worker
from tests.workers.test_chunk_joins import FRAMES, _stripes_source, frame_numbers
from tests.workers.test_worker import ingest_and_wait

pytestmark = [pytest.mark.slow]
redis_broker = test_worker.redis_broker  # the fixture, shared
CHUNKED = {"proxy_first": True, "chunk_min_seconds": 10, "chunk_seconds": 6}


def wait_for_ladder(rt: Runtime, version_id: int, timeout: float = 240) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with rt.db.session() as s:
            job = s.scalars(
                select(Job).where(Job.version_id == version_id, Job.kind == JobKind.LADDER)
            ).one_or_none()
            if job is not None and job.state in (JobState.SUCCEEDED, JobState.FAILED):
                s.expunge(job)
                return job
        time.sleep(0.5)
    raise AssertionError("the ladder did not finish")


def check_chunked_ladder(settings: Settings, tmp_path: Path, log: Path) -> None:
    source = _stripes_source(tmp_path / f"stripes-{uuid.uuid4().hex[:6]}.mp4")
    rt, vid = ingest_and_wait(settings, tmp_path, source, "分段转码样片")
    job = wait_for_ladder(rt, vid)
    assert job.state is JobState.SUCCEEDED, job.last_error
    with rt.db.session() as s:
        v = s.get_one(Version, vid)
        assert v.state is VersionState.READY
        assert {r.profile for r in v.renditions} == {
            "proxy", "poster", "broadcast", "playback", "web", "mobile",
        }  # fmt: skip
        key = next(r.storage_key for r in v.renditions if r.profile == "broadcast")
    rt.storage.download_to(key, tmp_path / "broadcast.mp4")
    assert frame_numbers(tmp_path / "broadcast.mp4") == list(range(FRAMES))
    assert list(rt.storage.list("tmp/")) == []  # the pieces are gone
    text = log.read_text()
    # Three chunks (0-6 s, 6-12 s, 12-20 s) and the sound were tasks of their own.
    assert text.count("Task mam.encode_chunk[") >= 3
    assert "Task mam.encode_sound[" in text and "Task mam.join_ladder[" in text
    rt.close()


@pytest.mark.redis
@pytest.mark.postgres
def test_chunked_ladder_on_the_production_stack(
    home: Path,
    tmp_path: Path,
    pg_url: str,
    redis_broker: str,
    moto_endpoint: str,
) -> None:
    settings = make_settings(
        home,
        database_url=pg_url,
        broker_url=redis_broker,
        storage_backend="s3",
        s3_bucket=f"films-{uuid.uuid4().hex[:8]}",
        s3_endpoint_url=moto_endpoint,
        s3_create_bucket=True,
        **CHUNKED,
    )
    log = tmp_path / "worker.log"
    with celery_worker(settings, log, concurrency=2):
        check_chunked_ladder(settings, tmp_path, log)


def test_chunked_ladder_on_the_embedded_default(
    home: Path, tmp_path: Path, settings: Settings
) -> None:
    settings = make_settings(home, **CHUNKED)
    assert settings.embedded_broker
    log = tmp_path / "worker.log"
    with celery_worker(settings, log, concurrency=2):
        check_chunked_ladder(settings, tmp_path, log)


def _chunk_pool_process(worker_pid: int) -> int | None:
    """Return the pool process of the worker running a chunk's ffmpeg (seeking: a chunk)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if (
            argv
            and argv[0].endswith(b"ffmpeg")
            and b"-ss" in argv
            and b"v_broadcast.mp4" in b"".join(argv)
        ):
            parent = int(stat[1])
            grand = int(
                (Path("/proc") / str(parent) / "stat").read_text().rsplit(")", 1)[1].split()[1]
            )
            if grand == worker_pid:
                return parent
    return None


@pytest.mark.redis
def test_a_worker_process_lost_mid_chunk_costs_that_chunk(
    home: Path,
    tmp_path: Path,
    settings: Settings,
    redis_broker: str,
) -> None:
    """A pool process killed mid-chunk: the chunk is delivered again and, once the lost
    run's claim has run out, made again alone; the reconciler (running all along, with a
    short grace) holds the job's lease meanwhile: the film is not started over."""
    import os
    import signal
    import threading
    from datetime import timedelta

    from mam.models.processing import LadderPiece
    from mam.runtime import build_runtime
    from workers.celery_app import make_celery
    from workers.dispatch import CeleryQueue
    from workers.tasks.maintenance import reconcile

    settings = make_settings(home, broker_url=redis_broker, lease_seconds=6, **CHUNKED)
    log = tmp_path / "worker.log"
    killed: list[int] = []
    watcher = build_runtime(settings)
    app = make_celery(settings)
    watcher.db.queue = CeleryQueue(app)
    taken_over: list[int] = []
    stop = threading.Event()

    def reconciler() -> None:
        while not stop.wait(1.0):
            taken_over.append(reconcile(watcher, timedelta(seconds=1), timedelta(0)))

    with celery_worker(settings, log, concurrency=2) as proc:

        def kill_one() -> None:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and not killed:
                pid = _chunk_pool_process(proc.pid)
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)  # the pool process this test's worker made
                    killed.append(pid)
                time.sleep(0.1)

        killer = threading.Thread(target=kill_one, daemon=True)
        killer.start()
        beat = threading.Thread(target=reconciler, daemon=True)
        beat.start()
        try:
            check_chunked_ladder(settings, tmp_path, log)
        finally:
            stop.set()
            beat.join(timeout=30)
        killer.join(timeout=5)
    assert killed, "no chunk was caught running"
    assert "WorkerLostError" in log.read_text()
    assert sum(taken_over) == 0
    with watcher.db.session() as s:
        job = s.scalars(select(Job).where(Job.kind == JobKind.LADDER)).one()
        assert (job.state, job.attempts) == (JobState.SUCCEEDED, 1)  # never started over
        runs = {p.name: p.runs for p in s.scalars(select(LadderPiece))}
    watcher.close()
    app.close()
    # Three chunks and the sound, each made once; the lost chunk twice; one join.
    twice = [name for name, n in runs.items() if n == 2]
    assert len(twice) == 1 and twice[0].startswith("chunk"), runs
    assert sorted(runs.values()) == [1, 1, 1, 1, 2] and set(runs) == {
        "sound", "chunk0", "chunk1", "chunk2", "join",
    }  # fmt: skip
    received = re.findall(r"Task (mam\.[a-z_]+)\[[^\]]+\] received", log.read_text())
    assert received.count("mam.process_version") == 2  # the review copy, the ladder: once each
