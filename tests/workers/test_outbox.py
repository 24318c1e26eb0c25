"""A broker outage between the commit and the enqueue delays work and never loses it.

The broker is a real Redis server of the test's own, killed right after the commit (an
after-commit hook registered before the outbox's own runs first) and started again later;
a real worker then does the work, once the reconciler has delivered the outbox.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mam import outbox
from mam.config import Settings
from mam.models import County, Job, JobState, Role, Version, VersionState
from mam.models.outbox import OutboxMessage, OutboxTask
from mam.models.release import PackageState, ReleasePackage
from mam.runtime import build_runtime
from mam.services.ingest import IngestService
from mam.services.releases import ReleaseService
from mam.uow import after_commit
from tests import factories
from tests.brokers import RedisServer
from tests.conftest import make_settings
from tests.web.conftest import process_now
from tests.workerproc import celery_worker, wait_for_state
from workers.celery_app import make_celery
from workers.dispatch import CeleryQueue
from workers.tasks.maintenance import STALE_AFTER, reconcile

pytestmark = [pytest.mark.slow, pytest.mark.redis]


@pytest.fixture
def broker(tmp_path: Path) -> RedisServer:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server  # type: ignore[misc]
    server.stop()


def _settings(home: Path, broker: RedisServer) -> Settings:
    return make_settings(home, broker_url=broker.url)


def test_processing_waits_out_a_broker_outage(
    settings: Settings, home: Path, tmp_path: Path, broker: RedisServer, fresh_clip: Path
) -> None:
    settings = _settings(home, broker)
    rt = build_runtime(settings)
    queue = CeleryQueue(make_celery(settings))
    with rt.db.session(queue=queue) as s:
        after_commit(s, broker.stop)  # the broker dies between the commit and the enqueue
        result = IngestService(s, rt.storage).ingest_file(fresh_clip, programme="P", title="T")
        vid, job_id = result.version.id, result.job.id
    trouble = outbox.queue_trouble(s)
    assert trouble is not None and trouble.delayed == 1 and trouble.error
    with rt.db.session() as s:  # committed, and kept for later
        assert s.get_one(Job, job_id).state == JobState.QUEUED
        message = s.scalars(select(OutboxMessage)).one()
        assert message.task == OutboxTask.PROCESS and message.sent_at is None
        assert message.attempts == 1 and message.last_error
    # While the broker is down the reconciler's drain fails too, and loses nothing.
    rt.db.queue = queue
    assert reconcile(rt, STALE_AFTER, outbox_after=timedelta(0)) == 0
    broker.start()  # the broker is back (empty: nothing was ever sent to it)
    assert broker.queued() == 0
    with celery_worker(settings, tmp_path / "worker.log"):
        assert reconcile(rt, STALE_AFTER, outbox_after=timedelta(0)) == 0  # sent, not taken over
        assert wait_for_state(rt, vid, {"ready", "failed"}, timeout=120) == "ready"
    with rt.db.session() as s:
        message = s.scalars(select(OutboxMessage)).one()
        assert message.sent_at is not None and message.attempts == 2  # two failed sends
        job = s.get_one(Job, job_id)
        assert job.state == JobState.SUCCEEDED and job.attempts == 1
        assert job.task_id == message.task_id
    rt.close()


def test_package_builds_wait_out_a_broker_outage(
    settings: Settings, home: Path, tmp_path: Path, broker: RedisServer, fresh_clip: Path
) -> None:
    settings = _settings(home, broker)
    rt = build_runtime(settings)
    vid = process_now(rt, fresh_clip, title="乡村振兴 第9集")
    queue = CeleryQueue(make_celery(settings))
    with rt.db.session(queue=queue) as s:
        s.get_one(Version, vid).state = VersionState.APPROVED  # review is tested on its own
        publisher = factories.user(s, Role.PUBLISHER)
        s.add(County(code="a", name="甲县", villages=7))
        svc = ReleaseService(s)
        release = svc.create("2026年第13期", publisher)
        svc.add_version(release, vid, publisher)
        svc.set_targets(release, None, publisher)
        after_commit(s, broker.stop)  # the broker dies between the commit and the enqueue
        svc.publish(release, publisher)
    trouble = outbox.queue_trouble(s)
    assert trouble is not None and trouble.delayed == 3
    with rt.db.session() as s:
        packages = s.scalars(select(ReleasePackage)).all()
        assert {p.state for p in packages} == {PackageState.QUEUED}
        unsent = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.sent_at.is_(None), OutboxMessage.task == OutboxTask.PACKAGE
            )
        ).all()
        assert sorted(m.payload["package_id"] for m in unsent) == sorted(p.id for p in packages)
    broker.start()
    rt.db.queue = queue
    with celery_worker(settings, tmp_path / "worker.log"):
        assert reconcile(rt, STALE_AFTER, outbox_after=timedelta(0)) == 0
        _wait_for_packages(rt, PackageState.READY)
    rt.close()


def _wait_for_packages(rt: object, state: PackageState, timeout: float = 120) -> None:
    import time

    deadline = time.monotonic() + timeout
    while True:
        with rt.db.session() as s:  # type: ignore[attr-defined]
            states = {p.state for p in s.scalars(select(ReleasePackage))}
            errors = [p.last_error for p in s.scalars(select(ReleasePackage)) if p.last_error]
        if states == {state}:
            return
        assert not errors, errors
        assert time.monotonic() < deadline, f"packages still {states}"
        time.sleep(0.5)
