"""Proxy first: the review copy makes a version reviewable, the ladder (a job of its own)
makes it distributable; release waits for the ladder; a held ladder starts on approval."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import NotAllowed
from mam.i18n import translator
from mam.machines import JOB, JobEvent
from mam.models import Job, JobKind, JobState, Role, Version, VersionState
from mam.models.outbox import OutboxMessage
from mam.runtime import Runtime
from mam.services.ingest import IngestService
from mam.services.ladder import (
    Ladder,
    LadderService,
    ladder_status,
    queue_ladder,
    require_distributable,
)
from mam.services.releases import ReleaseService
from tests import factories
from tests.mam.review_helpers import make_world
from workers.tasks.chunks import run_ladder
from workers.tasks.processing import run_processing

pytestmark = pytest.mark.slow
LADDER = {"broadcast", "playback", "web", "mobile"}


def _jobs(session: Session, version_id: int) -> list[tuple[str, str]]:
    rows = session.scalars(select(Job).where(Job.version_id == version_id).order_by(Job.id))
    return [(j.kind.value, j.state.value) for j in rows]


def _sent_jobs(session: Session) -> list[int]:
    return [int(m.payload["job_id"]) for m in session.scalars(select(OutboxMessage))]


def test_review_copy_first_then_the_ladder(runtime: Runtime, clip: Path) -> None:
    rt = replace(runtime, settings=replace(runtime.settings, proxy_first=True))
    with rt.db.session() as session:
        version_id = IngestService(session, rt.storage).ingest_file(
            clip, programme="时代风采", title="乡村振兴 第1集"
        ).version.id
        job_id = session.scalars(select(Job.id).where(Job.version_id == version_id)).one()
    assert run_processing(rt, version_id, job_id, "w1")[0] == "ready"
    with rt.db.session() as session:
        version = session.get_one(Version, version_id)
        # Reviewable: the review copy and the poster, thumbnails; no distribution rendition.
        assert version.state is VersionState.READY
        assert {r.profile for r in version.renditions} == {"proxy", "poster"}
        assert _jobs(session, version_id) == [("process", "succeeded"), ("ladder", "queued")]
        ladder_id = session.scalars(
            select(Job.id).where(Job.version_id == version_id, Job.kind == JobKind.LADDER)
        ).one()
        assert ladder_id in _sent_jobs(session)  # through the outbox, after the commit
        assert ladder_status(session, version) is Ladder.PENDING
        proxy_keys = {o.key for o in rt.storage.list(f"renditions/{version_id}/proxy/")}
        assert proxy_keys
    # The ladder in one run (the clip is far below MAM_CHUNK_MIN_SECONDS).
    assert run_ladder(rt, version_id, ladder_id, "w2")[0] == "ready"
    with rt.db.session() as session:
        version = session.get_one(Version, version_id)
        assert version.state is VersionState.READY  # the ladder does not move the version
        assert {r.profile for r in version.renditions} == LADDER | {"proxy", "poster"}
        assert _jobs(session, version_id) == [("process", "succeeded"), ("ladder", "succeeded")]
        assert ladder_status(session, version) is Ladder.COMPLETE
        # The review copy the first job published is still there.
        assert {o.key for o in rt.storage.list(f"renditions/{version_id}/proxy/")} == proxy_keys
        assert list(rt.storage.list(f"renditions/{version_id}/web/"))


def test_a_held_ladder_starts_on_approval_and_release_waits_for_it(session: Session) -> None:
    world = make_world(session)
    v = world.version()
    job = queue_ladder(session, v, hold=True)  # MAM_LADDER_AFTER_APPROVAL
    session.commit()
    assert job.state is JobState.WAITING and job.id not in _sent_jobs(session)
    world.review.submit(v.id, world.producer)
    world.sign(v, world.first)
    session.commit()
    assert job.state is JobState.WAITING  # an intermediate stage is not the approval
    world.sign(v, world.final, sha256=v.sha256)
    session.commit()
    assert v.state is VersionState.APPROVED
    assert job.state is JobState.QUEUED and job.id in _sent_jobs(session)

    publisher = factories.user(session, Role.PUBLISHER)
    releases = ReleaseService(session)
    release = releases.create("2026年第13期", publisher)
    with pytest.raises(NotAllowed) as refused:
        releases.add_version(release, v.id, publisher)
    assert refused.value.code == "release.ladder_pending"
    assert refused.value.translated(translator("zh_CN")) == (
        "《乡村振兴 第1集》第 1 版暂不能发布：分发用的转码文件尚未全部完成（排队中）。"
    )
    JOB.fire(session, job, JobEvent.START, None)
    JOB.fire(session, job, JobEvent.SUCCEED, None)
    require_distributable(session, v)
    releases.add_version(release, v.id, publisher)
    session.commit()
    assert [i.version_id for i in release.items] == [v.id]


def test_a_cut_sent_back_never_runs_its_ladder(runtime: Runtime, session: Session) -> None:
    world = make_world(session)
    v = world.version()
    job = queue_ladder(session, v, hold=False)
    session.commit()
    world.review.submit(v.id, world.producer)
    world.request_changes(v, world.first, "字幕有误")
    session.commit()
    service = LadderService(session, runtime.storage)
    assert service.begin(v.id, worker="w", job_id=job.id) is None
    session.commit()
    assert job.state is JobState.SKIPPED
