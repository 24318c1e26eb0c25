"""A chunked ladder's chord goes through the outbox with its pieces; each piece is claimed,
so a duplicate runs nothing and a lost one runs alone; the reconciler holds the lease of a
run whose pieces are pending and sends a quiet chord again (mam/pieces.py, issue 15)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from mam import pieces
from mam.config import Settings
from mam.machines import JOB, JobEvent
from mam.models import Job, JobKind, JobState, utcnow
from mam.models.outbox import OutboxMessage, OutboxTask
from mam.models.processing import LadderPiece
from mam.runtime import Runtime, build_runtime
from mam.services.ingest import IngestService
from mam.services.reconcile import MAX_RESENDS
from tests.conftest import make_settings
from tests.workerproc import celery_worker
from tests.workers.test_chunk_joins import FRAMES, _stripes_source, frame_numbers
from tests.workers.test_chunked_worker import CHUNKED, wait_for_ladder
from workers.celery_app import make_celery
from workers.dispatch import CeleryQueue
from workers.tasks.chunks import run_ladder
from workers.tasks.maintenance import reconcile
from workers.tasks.processing import run_processing

GRACE = timedelta(seconds=1)
TTL = timedelta(seconds=60)
NAMES = ["sound", "chunk0", "chunk1", "chunk2"]


class ChordsTaken:
    """A broker that takes every message (and keeps the chords it was given)."""

    def __init__(self) -> None:
        self.chords: list[dict[str, Any]] = []

    def enqueue_processing(self, version_id: int, job_id: int) -> str:
        return f"task-{job_id}"

    def enqueue_package(self, package_id: int) -> str:
        return f"task-p{package_id}"

    def enqueue_chord(self, payload: dict[str, Any]) -> str:
        self.chords.append(payload)
        return f"chord-{len(self.chords)}"


@pytest.fixture
def rt(home: Path, database_url: str) -> Iterator[Runtime]:
    """A runtime on SQLite and on PostgreSQL (the reconciler reads the chord's JSON)."""
    runtime = build_runtime(make_settings(home, database_url=database_url))
    runtime.db.queue = ChordsTaken()
    yield runtime
    runtime.close()


def _running_job(rt: Runtime, clip: Path) -> int:
    """A job claimed by attempt 1 whose lease has run out."""
    with rt.db.session() as s:
        job_id = IngestService(s, rt.storage).ingest_file(clip, programme="P", title="T").job.id
    with rt.db.session() as s:
        job = s.get_one(Job, job_id)
        JOB.fire(s, job, JobEvent.START, None, details={"attempt": 1})
        job.attempts = 1
        job.lease_expires_at = utcnow() - timedelta(seconds=5)
    return job_id


def _dispatch(rt: Runtime, job_id: int) -> None:
    specs = [{"name": n, "chunk": {"index": i}} for i, n in enumerate(NAMES)]
    with rt.db.session() as s:
        pieces.dispatch_chunks(s, job_id, 1, specs, [{"index": 0}])


def _runs(rt: Runtime, job_id: int) -> dict[str, int]:
    with rt.db.session() as s:
        rows = s.scalars(select(LadderPiece).where(LadderPiece.job_id == job_id)).all()
        return {p.name: p.runs for p in rows}


def _chords(rt: Runtime) -> list[OutboxMessage]:
    with rt.db.session() as s:
        query = select(OutboxMessage).where(OutboxMessage.task == OutboxTask.CHORD)
        found = list(s.scalars(query.order_by(OutboxMessage.id)))
        s.expunge_all()
        return found


def _age(rt: Runtime, seconds: float) -> None:
    """Set every message's send time and every piece's lease end to ``seconds`` ago."""
    with rt.db.session() as s:
        past = utcnow() - timedelta(seconds=seconds)
        s.execute(update(OutboxMessage).values(sent_at=past))
        s.execute(
            update(LadderPiece).where(LadderPiece.lease_expires_at.is_not(None))
            .values(lease_expires_at=past)
        )  # fmt: skip


def test_the_chord_is_sent_only_after_its_pieces_are_committed(
    rt: Runtime, fresh_clip: Path
) -> None:
    job_id = _running_job(rt, fresh_clip)
    queue = rt.db.queue
    with pytest.raises(RuntimeError), rt.db.session() as s:  # a crash before the commit
        pieces.dispatch_chunks(s, job_id, 1, [{"name": "sound"}], [])
        raise RuntimeError("worker died")
    assert queue.chords == [] and _runs(rt, job_id) == {} and _chords(rt) == []
    _dispatch(rt, job_id)
    assert [c["pieces"] for c in queue.chords] == [
        [{"name": n, "chunk": {"index": i}} for i, n in enumerate(NAMES)]
    ]
    assert _runs(rt, job_id) == dict.fromkeys([*NAMES, "join"], 0)
    [message] = _chords(rt)
    assert message.sent_at is not None and message.task_id == "chord-1"


def test_a_chord_the_broker_would_not_take_waits_in_the_outbox(
    rt: Runtime, fresh_clip: Path
) -> None:
    job_id = _running_job(rt, fresh_clip)

    class Down(ChordsTaken):
        def enqueue_chord(self, payload: dict[str, Any]) -> str:
            raise ConnectionError("broker down")

    rt.db.queue = Down()
    _dispatch(rt, job_id)
    [message] = _chords(rt)
    assert message.sent_at is None and message.attempts == 1
    up = ChordsTaken()
    rt.db.queue = up
    reconcile(rt, GRACE, outbox_after=timedelta(0))
    assert [c["job_id"] for c in up.chords] == [job_id]
    with rt.db.session() as s:  # its lease was held, not taken over
        job = s.get_one(Job, job_id)
        assert (job.state, job.attempts) == (JobState.RUNNING, 1)


def test_a_piece_is_made_once_and_a_lost_run_is_claimed_again(
    rt: Runtime, fresh_clip: Path
) -> None:
    job_id = _running_job(rt, fresh_clip)
    _dispatch(rt, job_id)
    bind = rt.db.engine
    first = pieces.claim_piece(bind, job_id, 1, "chunk1", "w1", TTL)
    assert (first.outcome, first.run) == ("run", 1)
    busy = pieces.claim_piece(bind, job_id, 1, "chunk1", "w2", TTL)
    assert busy.outcome == "busy" and 50 < busy.wait <= 60
    _age(rt, 1)  # w1 was lost: its claim ran out
    second = pieces.claim_piece(bind, job_id, 1, "chunk1", "w2", TTL)
    assert (second.outcome, second.run) == ("run", 2)
    assert not pieces.finish_piece(bind, job_id, 1, "chunk1", 1, ["stale"])  # fenced
    assert pieces.finish_piece(bind, job_id, 1, "chunk1", 2, ["k1"])
    again = pieces.claim_piece(bind, job_id, 1, "chunk1", "w3", TTL)
    assert (again.outcome, again.keys) == ("done", ("k1",))
    assert pieces.claim_piece(bind, job_id, 2, "chunk1", "w3", TTL).outcome == "gone"
    assert pieces.staged_keys(bind, job_id, 1) is None  # three pieces still to make
    for name in ("sound", "chunk0", "chunk2"):
        run = pieces.claim_piece(bind, job_id, 1, name, "w1", TTL).run
        pieces.finish_piece(bind, job_id, 1, name, run, [f"k-{name}"])
    assert pieces.staged_keys(bind, job_id, 1) == ["k-sound", "k-chunk0", "k1", "k-chunk2"]
    assert _runs(rt, job_id) == {"sound": 1, "chunk0": 1, "chunk1": 2, "chunk2": 1, "join": 0}


def test_queued_pieces_hold_the_lease_of_their_run(rt: Runtime, fresh_clip: Path) -> None:
    """The pieces wait in the queue behind other work: the job's lease has run out, the
    chord was sent just now; the run is not taken over and its lease is extended."""
    job_id = _running_job(rt, fresh_clip)
    _dispatch(rt, job_id)
    assert reconcile(rt, timedelta(minutes=15), outbox_after=timedelta(0)) == 0
    with rt.db.session() as s:
        job = s.get_one(Job, job_id)
        assert (job.state, job.attempts) == (JobState.RUNNING, 1)
        assert job.lease_expires_at is not None and job.lease_expires_at > utcnow()
    assert len(_chords(rt)) == 1  # nothing sent again


def test_a_quiet_chord_is_sent_again_and_only_the_unmade_pieces_run(
    rt: Runtime, fresh_clip: Path
) -> None:
    job_id = _running_job(rt, fresh_clip)
    _dispatch(rt, job_id)
    bind = rt.db.engine
    for name in ("sound", "chunk0"):  # made
        pieces.finish_piece(bind, job_id, 1, name, pieces.claim_piece(
            bind, job_id, 1, name, "w1", TTL).run, [name])  # fmt: skip
    pieces.claim_piece(bind, job_id, 1, "chunk1", "w1", TTL)  # its worker is lost
    _age(rt, 2 * GRACE.total_seconds())  # chunk2's message was lost with the broker
    assert reconcile(rt, GRACE, outbox_after=timedelta(0)) == 0
    chords = _chords(rt)
    assert [c.payload["resends"] for c in chords] == [0, 1]
    assert chords[1].sent_at is not None
    assert [c["pieces"] for c in rt.db.queue.chords][1] == chords[0].payload["pieces"]
    # The re-sent chord's deliveries: made pieces are not made again; the two lost run.
    outcomes = {n: pieces.claim_piece(bind, job_id, 1, n, "w2", TTL).outcome for n in NAMES}
    assert outcomes == {"sound": "done", "chunk0": "done", "chunk1": "run", "chunk2": "run"}
    assert _runs(rt, job_id) == {"sound": 1, "chunk0": 1, "chunk1": 2, "chunk2": 1, "join": 0}
    # Not again while the re-sent chord is young (patience doubles with every re-send).
    _age(rt, 1.5 * GRACE.total_seconds())
    reconcile(rt, GRACE, outbox_after=timedelta(0))
    assert len(_chords(rt)) == 2


def test_a_run_whose_chord_was_sent_too_often_is_taken_over(rt: Runtime, fresh_clip: Path) -> None:
    job_id = _running_job(rt, fresh_clip)
    _dispatch(rt, job_id)
    with rt.db.session() as s:
        message = s.scalars(
            select(OutboxMessage).where(OutboxMessage.task == OutboxTask.CHORD)
        ).one()
        message.payload = {**message.payload, "resends": MAX_RESENDS}
    _age(rt, 60)
    assert reconcile(rt, GRACE, outbox_after=timedelta(0)) == 1
    with rt.db.session() as s:
        assert s.get_one(Job, job_id).state is JobState.QUEUED  # the whole run again


class LosingQueue(ChordsTaken):
    """The broker accepts every message and loses it (a restart without persistence, say);
    this test runs the review copy and the ladder's first pass itself."""

    def enqueue_chord(self, payload: dict[str, Any]) -> str:
        return f"lost-{uuid.uuid4().hex}"


@pytest.mark.slow
def test_a_chord_the_broker_lost_is_sent_again_and_the_film_comes_out_whole(
    home: Path, tmp_path: Path, settings: Settings
) -> None:
    """The job's lease (3 s) runs out while its chord is lost: the reconciler holds it and
    sends the chord again instead of starting the film over."""
    settings = make_settings(home, lease_seconds=3, **CHUNKED)
    rt = build_runtime(settings)
    try:
        rt.db.queue = LosingQueue()
        source = _stripes_source(tmp_path / "stripes.mp4")
        with rt.db.session() as s:
            ingest = IngestService(s, rt.storage).ingest_file(source, programme="P", title="T")
            vid, first = ingest.version.id, ingest.job.id
        assert run_processing(rt, vid, first, "here")[0] == "ready"  # the review copy
        with rt.db.session() as s:
            ladder_id = s.scalars(
                select(Job.id).where(Job.version_id == vid, Job.kind == JobKind.LADDER)
            ).one()
        assert run_ladder(rt, vid, ladder_id, "here")[0] == "dispatched"  # and lost
        assert _runs(rt, ladder_id) == dict.fromkeys(
            ["sound", "chunk0", "chunk1", "chunk2", "join"], 0
        )
        log = tmp_path / "worker.log"
        with celery_worker(settings, log, concurrency=2):
            time.sleep(4)  # the lease has run out, the chord has been quiet for long
            app = make_celery(settings)
            rt.db.queue = CeleryQueue(app)
            reconcile(rt, GRACE, outbox_after=timedelta(0))  # sends the chord again
            job = wait_for_ladder(rt, vid)
            app.close()
        assert (job.state, job.attempts) == (JobState.SUCCEEDED, 1), job.last_error
        assert _runs(rt, ladder_id) == dict.fromkeys(
            ["sound", "chunk0", "chunk1", "chunk2", "join"], 1
        )
        with rt.db.session() as s:
            key = next(
                r.storage_key
                for r in s.get_one(Job, ladder_id).version.renditions  # type: ignore[union-attr]
                if r.profile == "broadcast"
            )
        rt.storage.download_to(key, tmp_path / "broadcast.mp4")
        assert frame_numbers(tmp_path / "broadcast.mp4") == list(range(FRAMES))
        assert list(rt.storage.list("tmp/")) == []
    finally:
        rt.close()
