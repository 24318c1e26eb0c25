from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mam import outbox
from mam.errors import Conflict, InvalidInput, InvalidMedia
from mam.models import Asset, AuditEvent, Episode, Job, JobState, Version, VersionState
from mam.models.outbox import OutboxMessage
from mam.runtime import Runtime
from mam.services.ingest import IngestService, display_filename
from tests import media
from tests.conftest import unique_copy


class RecordingQueue:
    """Checks that the version is committed (visible to another session) when enqueued."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.calls: list[tuple[int, int]] = []

    def enqueue_processing(self, version_id: int, job_id: int) -> str:
        with self.runtime.db.session() as other:
            assert other.get(Version, version_id) is not None, "enqueued before commit"
        self.calls.append((version_id, job_id))
        return f"task-{job_id}"


class BrokenQueue:
    def enqueue_processing(self, version_id: int, job_id: int) -> str:
        raise ConnectionError("broker down")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def counts(session: Session) -> tuple[int, int, int, int]:
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(m)) for m in (Asset, Version, Job, Episode)
    )


def stored_keys(runtime: Runtime) -> list[str]:
    return [o.key for o in runtime.storage.list("")]


def test_ingest_stores_hashes_probes_and_enqueues_after_commit(
    runtime: Runtime, fresh_clip: Path
) -> None:
    queue = RecordingQueue(runtime)
    with runtime.db.session(queue=queue) as session:
        result = IngestService(session, runtime.storage).ingest_file(
            fresh_clip, programme="时代风采", title="乡村振兴 第1集", source="imported"
        )
        assert queue.calls == []  # nothing is sent before the commit
    session.expire_all()
    v = session.get_one(Version, result.version.id)
    assert v.state == VersionState.UPLOADED and v.number == 1
    assert v.sha256 == sha256(fresh_clip)
    assert v.asset.original_filename == "乡村 振兴 第1集.mp4"
    assert stored_keys(runtime) == [f"originals/{v.sha256}"]
    with runtime.storage.open(v.asset.storage_key) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == v.sha256
    info = v.asset.media_info
    assert info["video"][0]["width"] == 320 and info["video"][0]["height"] == 240
    assert info["audio"][0]["channels"] >= 1
    assert abs(info["duration"] - 2.0) < 0.2
    assert v.episode.source_type.value == "imported"
    assert queue.calls == [(v.id, result.job.id)]
    job = session.get_one(Job, result.job.id)
    assert job.state == JobState.QUEUED and job.task_id == f"task-{result.job.id}"
    assert (
        session.scalar(
            select(AuditEvent.action).where(
                AuditEvent.object_type == "version", AuditEvent.object_id == v.id
            )
        )
        == "ingest"
    )


def test_second_cut_becomes_version_two(
    runtime: Runtime, session: Session, clip: Path, tmp_path: Path
) -> None:
    service = IngestService(session, runtime.storage)
    a = unique_copy(clip, tmp_path / "a.mp4")
    b = unique_copy(clip, tmp_path / "b.mp4")
    first = service.ingest_file(a, programme="时代风采", title="第2集").version
    second = service.ingest_file(b, programme="时代风采", title="第2集").version
    assert second.number == 2 and second.episode_id == first.episode_id


def test_same_content_twice_is_refused_naming_the_existing_version(
    runtime: Runtime, session: Session, fresh_clip: Path, tmp_path: Path
) -> None:
    service = IngestService(session, runtime.storage)
    first = service.ingest_file(fresh_clip, programme="时代风采", title="原片").version
    copy = tmp_path / "renamed copy.mp4"
    shutil.copyfile(fresh_clip, copy)
    before = counts(session), stored_keys(runtime)
    with pytest.raises(Conflict) as err:
        service.ingest_file(copy, programme="其他栏目", title="另一个标题")
    message = str(err.value)
    assert "renamed copy.mp4" in message and "《时代风采》 原片" in message
    assert f"version {first.number}; it was not added again" in message
    assert (counts(session), stored_keys(runtime)) == before


@pytest.mark.parametrize(
    ("maker", "reason"),
    [
        (media.make_empty, "empty"),
        (media.make_text_file_as_mp4, "Invalid data"),
        (media.make_truncated_mp4, "moov atom not found"),
    ],
)
def test_unreadable_files_are_refused_and_leave_nothing(
    runtime: Runtime,
    session: Session,
    tmp_path: Path,
    maker,
    reason: str,  # type: ignore[no-untyped-def]
) -> None:
    bad = maker(tmp_path / "坏 文件.mp4")
    original = bad.read_bytes()
    with pytest.raises(InvalidMedia) as err:
        IngestService(session, runtime.storage).ingest_file(bad, programme="P", title="T")
    assert "坏 文件.mp4" in str(err.value) and reason in str(err.value)
    assert counts(session) == (0, 0, 0, 0)
    assert stored_keys(runtime) == []
    assert bad.read_bytes() == original  # the user's file is untouched


def test_hostile_paths_and_names(runtime: Runtime, session: Session, fresh_clip: Path) -> None:
    sub = fresh_clip.parent / "sub dir"
    sub.mkdir()
    dotted = sub / ".." / fresh_clip.name  # the path the user typed contains ../
    v = (
        IngestService(session, runtime.storage)
        .ingest_file(
            dotted, programme="时代风采", title="路径", filename="../../etc/passwd\x00.mp4"
        )
        .version
    )
    assert v.asset.original_filename == "passwd.mp4"
    assert v.asset.storage_key == f"originals/{v.sha256}"
    assert display_filename("..\\..\\windows\\系统 文件.mp4") == "系统 文件.mp4"


def test_bad_fields_are_refused_before_any_work(
    runtime: Runtime, session: Session, fresh_clip: Path
) -> None:
    service = IngestService(session, runtime.storage)
    with pytest.raises(InvalidInput, match="title must not be empty"):
        service.ingest_file(fresh_clip, programme="P", title="  ")
    with pytest.raises(InvalidInput, match="is not a source"):
        service.ingest_file(fresh_clip, programme="P", title="T", source="stolen")
    with pytest.raises(InvalidInput, match="no such file"):
        service.ingest_file(fresh_clip.with_name("missing.mp4"), programme="P", title="T")
    assert stored_keys(runtime) == []


def test_broker_down_keeps_the_ingest(runtime: Runtime, fresh_clip: Path) -> None:
    with runtime.db.session(queue=BrokenQueue()) as session:
        result = IngestService(session, runtime.storage).ingest_file(
            fresh_clip, programme="P", title="T"
        )
    report = outbox.queue_trouble(session)
    assert report is not None and report.delayed == 1 and "broker down" in (report.error or "")
    with runtime.db.session() as s:
        job = s.get_one(Job, result.job.id)
        assert job.state == JobState.QUEUED and job.task_id is None  # the outbox keeps it
        message = s.scalars(select(OutboxMessage)).one()
        assert message.sent_at is None and message.attempts == 1
        assert message.payload == {"version_id": result.version.id, "job_id": job.id}


def test_a_new_cut_retires_the_approved_one(runtime: Runtime, session: Session, clip: Path,
                                            tmp_path: Path) -> None:
    """Uploading version 2 voids version 1's approval at once (it can't be released)."""
    service = IngestService(session, runtime.storage)
    first = service.ingest_file(unique_copy(clip, tmp_path / "a.mp4"), programme="P",
                                title="T").version
    first.state = VersionState.APPROVED
    session.commit()
    second = service.ingest_file(unique_copy(clip, tmp_path / "b.mp4"), programme="P",
                                 title="T").version
    session.refresh(first)
    assert (first.state, second.state) == (VersionState.SUPERSEDED, VersionState.UPLOADED)
    audit = session.scalar(select(AuditEvent).where(AuditEvent.object_id == first.id,
                                                    AuditEvent.action == "supersede"))
    assert audit is not None and audit.details["by_version_id"] == second.id
