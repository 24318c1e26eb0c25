"""What processing learns about a version: QC report, loudness, thumbnails (one row each)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from mam.models.core import Base, Version, _enum, utcnow


class QCVerdict(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - nothing to look at (not a password)
    WARN = "warn"  # findings a reviewer should look at
    FAIL = "fail"  # an error finding (damaged source, decode errors, wrong duration)


class QCReport(Base):
    """The QC report of a version's newest processing run (JSON, see ``workers/qc.py``)."""

    __tablename__ = "qc_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("version.id", ondelete="CASCADE"), unique=True
    )
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    verdict: Mapped[QCVerdict] = mapped_column(_enum(QCVerdict))
    errors: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    version: Mapped[Version] = relationship(
        backref=backref("qc_report", uselist=False, cascade="all, delete-orphan")
    )

    @property
    def findings(self) -> list[dict[str, Any]]:
        """Return the report's findings (each with check, severity, timecodes, message)."""
        return list(self.report.get("findings", []))


class LoudnessMeasurement(Base):
    """EBU R128 figures of a version: pass 1 on the source, the result per target."""

    __tablename__ = "loudness_measurement"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("version.id", ondelete="CASCADE"), unique=True
    )
    # Pass 1 on the source (None when the source has no audio or it is silent).
    integrated: Mapped[float | None] = mapped_column(Float)
    true_peak: Mapped[float | None] = mapped_column(Float)
    lra: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    # Per target: {"target": {...}, "profiles": [...], "integrated": ..., "true_peak": ...,
    # "lra": ..., "normalization": "linear"|"dynamic"|null}
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    version: Mapped[Version] = relationship(
        backref=backref("loudness", uselist=False, cascade="all, delete-orphan")
    )


class ThumbnailSet(Base):
    """A version's evenly spaced thumbnails, sprite sheets and WebVTT scrub track."""

    __tablename__ = "thumbnail_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("version.id", ondelete="CASCADE"), unique=True
    )
    # [{"key": "thumbs/7/thumb-01.jpg", "time": 3.0}, ...]
    thumbnails: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    sprite_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    vtt_key: Mapped[str | None] = mapped_column(String(300))
    # columns, rows, cell_width, cell_height, interval, cells, sheets
    layout: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    version: Mapped[Version] = relationship(
        backref=backref("thumbnail_set", uselist=False, cascade="all, delete-orphan")
    )


class LadderPiece(Base):
    """One piece of a chunked ladder run (a chunk, the sound, the join) of job ``job_id``'s
    attempt ``attempt`` (workers/tasks/chunks.py).

    Lease bookkeeping like the job's own (mam/leases.py), not a state of its own: ``runs``
    counts the claims, a claim holds the piece until ``lease_expires_at``, ``done_at`` and
    ``keys`` (the staged files in storage) say it is made. A duplicate delivery of a made
    piece runs nothing; a piece whose worker was lost (lease expired) is claimed and run
    again alone; while pieces are pending the reconciler holds the job's lease.
    """

    __tablename__ = "ladder_piece"
    __table_args__ = (UniqueConstraint("job_id", "attempt", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(32))  # "sound", "chunk<i>", "join"
    runs: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column()
