"""The pieces of a chunked ladder run: recorded with its chord, claimed, made once.

A ladder job's attempt that chunks its source (workers/ladder.py) records one
:class:`~mam.models.processing.LadderPiece` per piece (the sound, each chunk, the join) and
the chord's outbox message in the transaction that ends its first pass
(:func:`dispatch_chunks`): the chord is sent after the commit, or by the reconciler's drain,
never before the pieces exist and never lost with a crash between commit and send.

Each delivery of a piece claims it (:func:`claim_piece`, an atomic update like a job's
claim, mam/leases.py): a piece not yet run, or whose run's lease has expired (its worker
was lost), is run; a made piece is not run again (its staged keys are returned); a piece
another worker holds is waited for. A run renews its piece and the job together
(:class:`PieceLease`). So a lost chunk costs that chunk, and a chord sent twice (the
reconciler re-sends one whose pieces show no sign of life, mam/services/reconcile.py) costs
no encoding.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session

from mam import outbox
from mam.leases import Lease
from mam.models import Job, utcnow
from mam.models.processing import LadderPiece

JOIN = "join"
SOUND = "sound"


def chunk_name(index: int) -> str:
    return f"chunk{index}"


def dispatch_chunks(
    session: Session,
    job_id: int,
    attempt: int,
    pieces: Sequence[dict[str, Any]],
    cuts: Sequence[dict[str, Any]],
) -> None:
    """Record the pieces of attempt ``attempt`` and enqueue their chord (after the commit).

    ``pieces``: one dict per header task, ``name`` (``sound`` or ``chunk<i>``) and its
    arguments (``measured``, ``chunk``); ``cuts``: the chunks, for the join."""
    for name in [p["name"] for p in pieces] + [JOIN]:
        session.add(LadderPiece(job_id=job_id, attempt=attempt, name=name, keys=[]))
    session.flush()
    payload = {
        "job_id": job_id, "attempt": attempt, "pieces": list(pieces), "cuts": list(cuts),
        "resends": 0,
    }  # fmt: skip
    outbox.enqueue_chord(session, payload)


@dataclass(frozen=True)
class PieceClaim:
    """What a delivery of a piece found: ``run`` (it is this run's, number ``run``),
    ``done`` (made: ``keys``), ``busy`` (another run holds it for ``wait`` s more) or
    ``gone`` (no such piece: the attempt was superseded)."""

    outcome: str
    run: int = 0
    keys: tuple[str, ...] = ()
    wait: float = 0.0


def _where(job_id: int, attempt: int, name: str) -> tuple[Any, ...]:
    return (
        LadderPiece.job_id == job_id,
        LadderPiece.attempt == attempt,
        LadderPiece.name == name,
    )


def claim_piece(
    bind: Engine, job_id: int, attempt: int, name: str, worker: str, ttl: timedelta
) -> PieceClaim:
    """Claim piece ``name`` of the run for ``ttl`` unless it is made or held (one update)."""
    now = utcnow()
    where = _where(job_id, attempt, name)
    with Session(bind=bind) as s, s.begin():
        claimed = s.execute(
            update(LadderPiece)
            .where(
                *where,
                LadderPiece.done_at.is_(None),
                or_(LadderPiece.runs == 0, LadderPiece.lease_expires_at < now),
            )
            .values(runs=LadderPiece.runs + 1, worker=worker[:200], lease_expires_at=now + ttl)
        ).rowcount  # type: ignore[attr-defined]
        piece = s.scalar(select(LadderPiece).where(*where))
        if piece is None:
            return PieceClaim("gone")
        if claimed:
            return PieceClaim("run", run=piece.runs)
        if piece.done_at is not None:
            return PieceClaim("done", keys=tuple(piece.keys))
        expires = piece.lease_expires_at or now
        return PieceClaim("busy", wait=max(0.0, (expires - now).total_seconds()))


def finish_piece(
    bind: Engine, job_id: int, attempt: int, name: str, run: int, keys: Sequence[str]
) -> bool:
    """Record run ``run`` of the piece as made (its staged ``keys``); False if another run
    took the piece over meanwhile (its files, the same, stand)."""
    with Session(bind=bind) as s, s.begin():
        result = s.execute(
            update(LadderPiece)
            .where(
                *_where(job_id, attempt, name),
                LadderPiece.runs == run,
                LadderPiece.done_at.is_(None),
            )
            .values(done_at=utcnow(), keys=list(keys))
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def let_go(bind: Engine, job_id: int, attempt: int, name: str, run: int) -> None:
    """End run ``run``'s claim now (it failed and will be retried): the next delivery of
    the piece claims it at once instead of waiting for the lease to run out."""
    with Session(bind=bind) as s, s.begin():
        s.execute(
            update(LadderPiece)
            .where(
                *_where(job_id, attempt, name),
                LadderPiece.runs == run,
                LadderPiece.done_at.is_(None),
            )
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )


def staged_keys(bind: Engine, job_id: int, attempt: int) -> list[str] | None:
    """Return the staged keys of every made piece but the join; None while one is not made."""
    with Session(bind=bind) as s:
        pieces = s.scalars(
            select(LadderPiece)
            .where(
                LadderPiece.job_id == job_id,
                LadderPiece.attempt == attempt,
                LadderPiece.name != JOIN,
            )
            .order_by(LadderPiece.id)
        ).all()
    if not pieces or any(p.done_at is None for p in pieces):
        return None
    return [k for p in pieces for k in p.keys]


class PieceLease(Lease):
    """The lease of one run of a piece: every renewal renews the job's lease (fenced by its
    attempt number) and the piece's claim (fenced by the run number)."""

    def __init__(self, bind: Engine, job_id: int, attempt: int, name: str, run: int,
                 ttl: timedelta) -> None:  # fmt: skip
        super().__init__(bind, Job, job_id, attempt, ttl)
        self.name = name
        self.run = run
        self._piece_renewed = time.monotonic()

    def renew(self, *, force: bool = False, **values: Any) -> None:
        super().renew(force=force, **values)
        if self.released:
            return
        if not force and time.monotonic() - self._piece_renewed < self.ttl.total_seconds() / 10:
            return
        with Session(bind=self.bind) as s, s.begin():
            result = s.execute(
                update(LadderPiece)
                .where(
                    *_where(self.row_id, self.attempt, self.name),
                    LadderPiece.runs == self.run,
                    LadderPiece.done_at.is_(None),
                )
                .values(lease_expires_at=utcnow() + self.ttl)
            )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            self.lost = True
            raise self._superseded()
        self._piece_renewed = time.monotonic()
