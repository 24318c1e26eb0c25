"""A real Celery worker process consumes real tasks from Redis or the on-disk broker."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from mam.config import Settings
from mam.models import JobState, Version, VersionState
from mam.runtime import Runtime, build_runtime
from mam.services.ingest import IngestService
from tests import media
from tests.conftest import REDIS_URL, cut_midstream, make_settings, unavailable, unique_copy
from tests.workerproc import celery_worker, wait_for_state
from workers.celery_app import make_celery
from workers.dispatch import CeleryQueue

pytestmark = [pytest.mark.slow]
# The worker tests have a Redis database of their own (flushed before each test).
WORKER_REDIS_URL = os.environ.get(
    "MAM_TEST_WORKER_REDIS_URL", REDIS_URL.rsplit("/", 1)[0] + "/10"
)
PROFILES = {"broadcast", "playback", "web", "mobile", "proxy", "poster"}


@pytest.fixture
def redis_broker() -> str:
    client = redis.Redis.from_url(WORKER_REDIS_URL)
    try:
        client.flushdb()
    except redis.ConnectionError as exc:
        unavailable(f"Redis not reachable at {WORKER_REDIS_URL}: {exc}")
    finally:
        client.close()
    return WORKER_REDIS_URL


def ingest_and_wait(
    settings: Settings, tmp_path: Path, source: Path, title: str, *, expect: str = "ready"
) -> tuple[Runtime, int]:
    rt = build_runtime(settings)
    queue = CeleryQueue(make_celery(settings))
    with rt.db.session(queue=queue) as s:
        vid = (
            IngestService(s, rt.storage)
            .ingest_file(source, programme="时代风采", title=title)
            .version.id
        )
    assert wait_for_state(rt, vid, {"ready", "failed"}, timeout=120) == expect
    return rt, vid


def assert_ready(rt: Runtime, vid: int) -> None:
    with rt.db.session() as s:
        v = s.get_one(Version, vid)
        assert v.state == VersionState.READY
        job = v.jobs[-1]
        assert job.state == JobState.SUCCEEDED and job.progress == 100.0
        assert job.worker and job.worker.startswith("test-")
        assert {r.profile for r in v.renditions} == PROFILES
        for r in v.renditions:
            if r.mime_type.endswith("mpegurl"):  # an HLS ladder: the whole folder counts
                folder = r.storage_key.rsplit("/", 1)[0] + "/"
                assert sum(o.size for o in rt.storage.list(folder)) == r.size > 0
            else:
                assert rt.storage.size(r.storage_key) == r.size > 0


@pytest.mark.redis
@pytest.mark.postgres
def test_worker_on_the_production_stack(
    home: Path, tmp_path: Path, pg_url: str, redis_broker: str, moto_endpoint: str, fresh_clip: Path
) -> None:
    """PostgreSQL + Redis + S3 (moto over HTTP), as in production."""
    settings = make_settings(
        home,
        database_url=pg_url,
        broker_url=redis_broker,
        storage_backend="s3",
        s3_bucket=f"films-{uuid.uuid4().hex[:8]}",
        s3_endpoint_url=moto_endpoint,
        s3_create_bucket=True,
    )
    with celery_worker(settings, tmp_path / "worker.log"):
        rt, vid = ingest_and_wait(settings, tmp_path, fresh_clip, "PostgreSQL 上的样片")
        assert_ready(rt, vid)
        rt.close()


@pytest.mark.redis
def test_worker_on_redis_and_sqlite_survives_bad_input(
    home: Path, tmp_path: Path, settings: Settings, redis_broker: str, clip: Path
) -> None:
    settings = make_settings(home, broker_url=redis_broker)
    with celery_worker(settings, tmp_path / "worker.log") as proc:
        # Sources that probe but cannot be processed fail with a reason ...
        cut = cut_midstream(clip, tmp_path / "cut.mp4")
        huge = media.make_huge_frame_header(tmp_path / "huge.avi")
        for source, title, reason in [(cut, "坏片", "QC: "), (huge, "巨帧", "huge.avi: frames")]:
            rt, bad = ingest_and_wait(settings, tmp_path, source, title, expect="failed")
            with rt.db.session() as s:
                v = s.get_one(Version, bad)
                assert v.failure_reason and v.failure_reason.startswith(reason)
                assert v.jobs[-1].state == JobState.FAILED and v.jobs[-1].attempts == 1
        # ... and the same worker process goes on to process a good one.
        assert proc.poll() is None
        rt, good = ingest_and_wait(
            settings, tmp_path, unique_copy(clip, tmp_path / "g.mp4"), "好片"
        )
        assert_ready(rt, good)
        rt.close()


def test_worker_on_the_embedded_file_broker(
    home: Path, tmp_path: Path, settings: Settings, fresh_clip: Path
) -> None:
    assert settings.embedded_broker
    with celery_worker(settings, tmp_path / "worker.log"):
        rt, vid = ingest_and_wait(settings, tmp_path, fresh_clip, "嵌入式样片")
        assert_ready(rt, vid)
        rt.close()


@pytest.mark.redis
def test_reconciler_enqueues_jobs_the_broker_never_got(
    home: Path, tmp_path: Path, settings: Settings, redis_broker: str, fresh_clip: Path
) -> None:
    """The Job table is the truth: a queued job whose message never reached the broker is
    sent by the reconciler (it drains the outbox)."""
    from datetime import timedelta

    from mam.models import Job, utcnow
    from mam.models.outbox import OutboxMessage
    from workers.celery_app import RECONCILE_TASK

    settings = make_settings(home, broker_url=redis_broker)
    rt = build_runtime(settings)
    with rt.db.session() as s:  # no queue: as if the process died between commit and send
        result = IngestService(s, rt.storage).ingest_file(fresh_clip, programme="P", title="T")
        vid, job_id = result.version.id, result.job.id
        s.get_one(Job, job_id).created_at = utcnow() - timedelta(hours=1)
        s.flush()
        s.scalars(select(OutboxMessage)).one().created_at = utcnow() - timedelta(hours=1)
    with celery_worker(settings, tmp_path / "worker.log"):
        make_celery(settings).send_task(RECONCILE_TASK)
        assert wait_for_state(rt, vid, {"ready", "failed"}, timeout=120) == "ready"
    assert_ready(rt, vid)
    rt.close()


def test_processing_goes_to_the_transcode_queue_only(settings: Settings) -> None:
    app = make_celery(settings)
    route = app.amqp.router.route({}, "mam.process_version")
    assert route["queue"].name == "transcode" and route["routing_key"] == "transcode"
    queues = app.amqp.queues
    assert queues["default"].routing_key != queues["transcode"].routing_key


@pytest.mark.redis
def test_a_hanging_ffmpeg_is_stopped_by_the_time_limit(
    home: Path, tmp_path: Path, settings: Settings, redis_broker: str, fresh_clip: Path
) -> None:
    """An ffmpeg that hangs (here: one that never answers) is ended by the task's soft time
    limit; the job fails with the reason, and no ffmpeg or scratch directory is left."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pid_file = tmp_path / "ffmpeg.pids"
    fake = bin_dir / "ffmpeg"
    fake.write_text(f"#!/bin/sh\necho $$ >> {pid_file}\nexec sleep 600\n")
    fake.chmod(0o755)
    settings = make_settings(
        home, broker_url=redis_broker, transcode_soft_time_limit=3, transcode_time_limit=30
    )
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    with celery_worker(settings, tmp_path / "worker.log", extra_env=env) as proc:
        rt, vid = ingest_and_wait(settings, tmp_path, fresh_clip, "卡住", expect="failed")
        with rt.db.session() as s:
            v = s.get_one(Version, vid)
            assert v.failure_reason == "Processing exceeded its time limit of 3 s."
            assert v.jobs[-1].error_code == "processing.time_limit"
            assert v.jobs[-1].state == JobState.FAILED and v.renditions == []
        assert proc.poll() is None  # the worker itself carries on
        for pid in map(int, pid_file.read_text().split()):
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(
                f"/proc/{pid}/status").read_text().lower()  # fmt: skip
        assert not list(Path(settings.work_dir).iterdir())  # type: ignore[arg-type]
        rt.close()
