"""One unit of work: services never commit; after-commit work runs only after a commit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mam import outbox
from mam.models import AuditEvent, Job, JobKind, Version, VersionState
from mam.models.outbox import OutboxMessage
from mam.runtime import Runtime
from mam.uow import after_commit, checkpoint, short_transaction
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


class RecordingQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[int, int]] = []

    def enqueue_processing(self, version_id: int, job_id: int) -> str:
        self.sent.append((version_id, job_id))
        return f"task-{job_id}"

    def enqueue_package(self, package_id: int) -> str:
        raise AssertionError("no package here")


def _calls(path: Path, name: str) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == name
    ]


def test_no_service_and_no_view_calls_commit() -> None:
    """Only the unit of work commits (mam/uow.py); docs/architecture.md lists the
    checkpoints and short transactions that stand in where a durable point is needed."""
    found = {
        str(path.relative_to(ROOT)): lines
        for folder in ("mam/services", "web", "workers", "mam/cli")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "translations" not in path.parts
        and (lines := _calls(path, "commit"))
        and str(path.relative_to(ROOT)) != "web/transactions.py"  # the request's unit of work
    }
    assert found == {}
    assert _calls(ROOT / "mam/uow.py", "commit")  # the check finds commits where they are


def test_rollback_drops_after_commit_work(runtime: Runtime) -> None:
    ran: list[str] = []
    queue = RecordingQueue()
    with pytest.raises(RuntimeError, match="refused"), runtime.db.session(queue=queue) as s:
        version = factories.version(s, VersionState.UPLOADED)
        job = Job(version=version, kind=JobKind.PROCESS)
        s.add(job)
        s.flush()
        outbox.enqueue_processing(s, job)
        after_commit(s, lambda: ran.append("mail"))
        raise RuntimeError("refused")
    assert ran == [] and queue.sent == []
    with runtime.db.session() as s:  # the outbox row went with the rest
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert s.scalar(select(func.count()).select_from(Job)) == 0


def test_after_commit_work_runs_once_after_the_commit(runtime: Runtime) -> None:
    seen: list[int] = []
    queue = RecordingQueue()
    with runtime.db.session(queue=queue) as s:
        version = factories.version(s, VersionState.UPLOADED)
        job = Job(version=version, kind=JobKind.PROCESS)
        s.add(job)
        s.flush()
        outbox.enqueue_processing(s, job)

        def committed() -> None:  # another session sees the rows: the commit came first
            with runtime.db.session() as other:
                seen.append(other.scalar(select(func.count()).select_from(Job)) or 0)

        after_commit(s, committed)
        assert seen == [] and queue.sent == []
        vid, job_id = version.id, job.id
    assert seen == [1] and queue.sent == [(vid, job_id)]
    with runtime.db.session() as s:
        message = s.scalars(select(OutboxMessage)).one()
        assert message.sent_at is not None and message.task_id == f"task-{job_id}"
        assert s.get_one(Job, job_id).task_id == f"task-{job_id}"
    assert outbox.queue_trouble(s) is None


def test_a_savepoint_rollback_keeps_the_unit_of_work(runtime: Runtime) -> None:
    with runtime.db.session() as s:
        v = factories.version(s, VersionState.UPLOADED)
        with pytest.raises(ValueError), s.begin_nested():
            s.add(AuditEvent(action="x", object_type="version", object_id=v.id))
            raise ValueError
        vid = v.id
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0
        assert s.get(Version, vid) is not None


def test_a_released_savepoint_does_not_run_after_commit_work(runtime: Runtime) -> None:
    """Releasing a savepoint is not the commit: work registered before it, inside it or
    after it runs once, after the outer commit (the reconciler takes each job over in a
    savepoint; its outbox drain used to run at the savepoint and wait on its own lock)."""
    ran: list[str] = []
    with runtime.db.session() as s:
        factories.version(s, VersionState.UPLOADED)
        after_commit(s, lambda: ran.append("before"))
        with s.begin_nested():
            after_commit(s, lambda: ran.append("inside"))
        assert ran == []
        after_commit(s, lambda: ran.append("after"))
        assert ran == []
    assert ran == ["before", "inside", "after"]


def test_a_rolled_back_savepoint_drops_only_its_own_after_commit_work(
    runtime: Runtime,
) -> None:
    ran: list[str] = []
    with runtime.db.session() as s:
        factories.version(s, VersionState.UPLOADED)
        after_commit(s, lambda: ran.append("kept"))
        with pytest.raises(ValueError), s.begin_nested():
            after_commit(s, lambda: ran.append("dropped"))
            with s.begin_nested():  # released into the savepoint that is then rolled back
                after_commit(s, lambda: ran.append("dropped too"))
            raise ValueError
        assert ran == []
    assert ran == ["kept"]


def test_durable_points_survive_a_rollback(runtime: Runtime) -> None:
    """A checkpoint commits the work so far; a short transaction commits on its own."""
    with pytest.raises(RuntimeError), runtime.db.session() as s:
        factories.version(s, VersionState.UPLOADED)
        checkpoint(s, "test")
        with short_transaction(s) as own:
            own.add(AuditEvent(action="progress", object_type="job"))
        s.add(AuditEvent(action="lost", object_type="job"))
        raise RuntimeError
    with runtime.db.session() as s:
        assert s.scalars(select(AuditEvent.action)).all() == ["progress"]
        assert s.scalar(select(func.count()).select_from(Version)) == 1
