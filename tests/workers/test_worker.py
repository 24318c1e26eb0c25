"""A real Celery worker process consumes real tasks from Redis or the on-disk broker."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis

from mam.config import Settings
from mam.models import JobState, Version, VersionState
from mam.runtime import Runtime, build_runtime
from mam.services.ingest import IngestService
from tests.conftest import REDIS_URL, cut_midstream, make_settings, unavailable, unique_copy
from tests.workerproc import celery_worker, wait_for_state
from workers.celery_app import make_celery
from workers.dispatch import CeleryQueue

pytestmark = [pytest.mark.slow]


@pytest.fixture
def redis_broker() -> str:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    except redis.ConnectionError as exc:
        unavailable(f"Redis not reachable at {REDIS_URL}: {exc}")
    finally:
        client.close()
    return REDIS_URL


def ingest_and_wait(
    settings: Settings, tmp_path: Path, source: Path, title: str, *, expect: str = "ready"
) -> tuple[Runtime, int]:
    rt = build_runtime(settings)
    queue = CeleryQueue(make_celery(settings))
    with rt.db.session() as s:
        vid = (
            IngestService(s, rt.storage, queue)
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
        assert {r.profile for r in v.renditions} == {"proxy", "poster"}
        for r in v.renditions:
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
        # A source that probes but cannot be processed fails with a reason ...
        cut = cut_midstream(clip, tmp_path / "cut.mp4")
        rt, bad = ingest_and_wait(settings, tmp_path, cut, "坏片", expect="failed")
        with rt.db.session() as s:
            v = s.get_one(Version, bad)
            assert v.failure_reason and v.jobs[-1].state == JobState.FAILED
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


def test_reconciler_enqueues_jobs_the_broker_never_got(
    home: Path, tmp_path: Path, settings: Settings, fresh_clip: Path
) -> None:
    """The Job table is the truth: a queued job with no message is picked up again."""
    from datetime import timedelta

    from mam.models import Job, utcnow
    from workers.celery_app import RECONCILE_TASK

    rt = build_runtime(settings)
    with rt.db.session() as s:  # no queue: as if the broker was down at ingest time
        result = IngestService(s, rt.storage).ingest_file(fresh_clip, programme="P", title="T")
        vid, job_id = result.version.id, result.job.id
        s.get_one(Job, job_id).created_at = utcnow() - timedelta(hours=1)
        s.commit()
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
