"""Review tables: the stage chain, reviewers' stage grants, decisions, comments, QC waivers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mam.models.core import Base, User, Version, _enum, utcnow


class ReviewStage(Base):
    """One link of the review chain (初审, 终审, ...); signed in ``position`` order."""

    __tablename__ = "review_stage"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)


class ReviewerStage(Base):
    """A reviewer's permission to sign one stage."""

    __tablename__ = "reviewer_stage"
    __table_args__ = (UniqueConstraint("user_id", "stage_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("review_stage.id", ondelete="CASCADE"))

    stage: Mapped[ReviewStage] = relationship(lazy="joined")


class ProgrammeEditor(Base):
    """A producer who may edit and submit a programme besides its responsible producer."""

    __tablename__ = "programme_editor"
    __table_args__ = (UniqueConstraint("programme_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))

    user: Mapped[User] = relationship(lazy="joined")


class DecisionKind(enum.StrEnum):
    SIGNED = "signed"  # the stage is passed
    CHANGES_REQUESTED = "changes_requested"


class ReviewDecision(Base):
    """A reviewer's signature (or rejection) at one stage, tied to the file's SHA-256."""

    __tablename__ = "review_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("review_stage.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[DecisionKind] = mapped_column(_enum(DecisionKind))
    sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when a newer version of the episode voids this approval; the row itself stays.
    voided_at: Mapped[datetime | None] = mapped_column()
    voided_by_version_id: Mapped[int | None] = mapped_column(Integer)

    stage: Mapped[ReviewStage] = relationship(lazy="joined")
    reviewer: Mapped[User] = relationship(lazy="joined")
    version: Mapped[Version] = relationship()

    @property
    def valid(self) -> bool:
        """Say whether the decision still counts (not voided by a newer version)."""
        return self.voided_at is None


class Comment(Base):
    """A note on a version at a frame or over a frame range; replies hang off a root."""

    __tablename__ = "review_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("review_comment.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # Frames from the start at the version's frame rate; replies have none.
    start_frame: Mapped[int | None] = mapped_column(Integer)
    end_frame: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    replies: Mapped[list[Comment]] = relationship(
        order_by="Comment.id", lazy="selectin", back_populates="parent"
    )
    parent: Mapped[Comment | None] = relationship(back_populates="replies", remote_side=[id])

    @property
    def resolved(self) -> bool:
        """Say whether the thread is resolved."""
        return self.resolved_at is not None


class QcWaiver(Base):
    """A reviewer's decision that a version's QC failures do not block approval."""

    __tablename__ = "qc_waiver"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text)
    findings: Mapped[list[str]] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    reviewer: Mapped[User] = relationship(lazy="joined")
