"""Leases and fencing: a live job in a long stage is not taken over; a stale attempt cannot
publish over a newer run (docs/architecture.md, "Leases and fencing")."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mam.config import Settings
from mam.errors import ProcessingError, Superseded
from mam.messages import processing
from mam.models import Job, JobState, Version, VersionState, utcnow
from mam.models.outbox import OutboxMessage
from mam.runtime import Runtime, build_runtime
from mam.services.ingest import IngestService
from mam.services.processing import (
    LocalFile,
    ProcessingResult,
    ProcessingService,
    RenditionOutput,
    rendition_key,
)
from mam.services.reconcile import Reconciler
from tests.conftest import make_settings
from workers.tasks.maintenance import reconcile
from workers.tasks.processing import run_processing

LEASE = 2  # seconds: the reconciler may take over a job not renewed for this long
GRACE = timedelta(seconds=1)  # the reconciler's threshold for a silent job


class SentQueue:
    """The broker accepted everything (this test is not about the outbox)."""

    def enqueue_processing(self, version_id: int, job_id: int) -> str:
        return f"task-{job_id}"

    def enqueue_package(self, package_id: int) -> str:
        return f"task-p{package_id}"


class SlowPublishing:
    """Storage whose uploads of a run's outputs take ``seconds`` (a slow S3, say)."""

    def __init__(self, inner: Any, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds
        self.publishing = threading.Event()

    def put_file(self, key: str, *args: Any, **kwargs: Any) -> int:
        if key.startswith("tmp/jobs/") and not self.publishing.is_set():
            self.publishing.set()
            time.sleep(self.seconds)
        return int(self.inner.put_file(key, *args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _ingest(rt: Runtime, clip: Path) -> tuple[int, int]:
    with rt.db.session(queue=SentQueue()) as s:
        result = IngestService(s, rt.storage).ingest_file(clip, programme="P", title="T")
        return result.version.id, result.job.id


@pytest.fixture
def leased(settings: Settings, home: Path) -> Runtime:
    rt = build_runtime(make_settings(home, lease_seconds=LEASE))
    rt.db.queue = SentQueue()
    yield rt  # type: ignore[misc]
    rt.close()


@pytest.mark.slow
def test_a_live_job_in_a_long_publish_is_not_taken_over(leased: Runtime, fresh_clip: Path) -> None:
    vid, job_id = _ingest(leased, fresh_clip)
    slow = SlowPublishing(leased.storage, seconds=4 * LEASE)
    worker_rt = Runtime(settings=leased.settings, db=leased.db, storage=slow)  # type: ignore[arg-type]
    outcome: list[str] = []
    run = threading.Thread(
        target=lambda: outcome.append(run_processing(worker_rt, vid, job_id, "w1")[0])
    )
    run.start()
    assert slow.publishing.wait(120), "the run never reached publishing"
    taken_over = 0
    started = time.monotonic()
    while run.is_alive() and time.monotonic() - started < 4 * LEASE:
        time.sleep(GRACE.total_seconds())
        taken_over += reconcile(leased, GRACE, outbox_after=timedelta(0))
        with leased.db.session() as s:
            job = s.get_one(Job, job_id)
            assert job.attempts == 1  # never claimed a second time
            if job.state == JobState.RUNNING:  # (it may just have finished)
                assert job.lease_expires_at is not None and job.lease_expires_at > utcnow()
    assert time.monotonic() - started >= 3 * LEASE  # we watched well past the threshold
    run.join(120)
    assert taken_over == 0 and outcome == ["ready"]
    with leased.db.session() as s:
        job = s.get_one(Job, job_id)
        assert (job.state, job.attempts) == (JobState.SUCCEEDED, 1)
        assert s.get_one(Version, vid).state == VersionState.READY
        assert len(s.scalars(select(OutboxMessage)).all()) == 1  # the ingest's, no second run


def _result(tmp_path: Path, vid: int, name: str, body: bytes) -> ProcessingResult:
    path = tmp_path / name
    path.write_bytes(body)
    key = rendition_key(vid, "proxy", "proxy.mp4")
    return ProcessingResult(
        renditions=(RenditionOutput("proxy", key, (LocalFile(path, key),), "video/mp4"),)
    )


def test_a_stale_attempt_cannot_publish_over_a_newer_run(
    leased: Runtime, fresh_clip: Path, tmp_path: Path
) -> None:
    vid, job_id = _ingest(leased, fresh_clip)
    ttl = timedelta(seconds=LEASE)
    with leased.db.session() as a:
        stale = ProcessingService(a, leased.storage, lease_ttl=ttl)
        plan_a = stale.begin(vid, worker="sleepy", job_id=job_id)
        assert plan_a is not None and plan_a.attempt == 1
        # The worker stops renewing (a long GC pause, a frozen VM): the lease runs out and
        # the reconciler hands the job to another worker, which claims attempt 2.
        with leased.db.session() as r:
            r.get_one(Job, job_id).lease_expires_at = utcnow() - timedelta(seconds=1)
        with leased.db.session() as r:
            reconciler = Reconciler(r, GRACE)
            assert [j.id for j in reconciler.stale_jobs()] == [job_id]
            reconciler.take_over_job(r.get_one(Job, job_id))
        with leased.db.session() as b:
            fresh = ProcessingService(b, leased.storage, lease_ttl=ttl)
            plan_b = fresh.begin(vid, worker="fresh", job_id=job_id)
            assert plan_b is not None and plan_b.attempt == 2
            # The stale worker wakes up: no progress, no publish, no failure recorded.
            with pytest.raises(Superseded):
                stale.record_progress(job_id, 50.0, None)
            with pytest.raises(Superseded):
                stale.publish(plan_a, _result(tmp_path, vid, "old.mp4", b"stale bytes"))
            assert list(leased.storage.list(f"renditions/{vid}/")) == []
            late = ProcessingError(processing.UNEXPECTED, detail="woke up late", permanent=True)
            assert stale.fail(plan_a, late, permanent=True) is False
            a.rollback()  # the stale task's unit of work ends
            fresh.publish(plan_b, _result(tmp_path, vid, "new.mp4", b"fresh bytes"))
    with leased.db.session() as s:
        job = s.get_one(Job, job_id)
        assert (job.state, job.attempts, job.worker) == (JobState.SUCCEEDED, 2, "fresh")
        assert job.last_error is None
        assert s.get_one(Version, vid).state == VersionState.READY
    with leased.storage.open(rendition_key(vid, "proxy", "proxy.mp4")) as fh:
        assert fh.read() == b"fresh bytes"
