"""Online learning (网上党员教育): learner profiles, study records, segments served.

A learner is a user account with the ``learner`` role and one :class:`Learner` row (its
county, phone number and, later, the playback point it belongs to). Study records are
kept per learner and episode; :class:`StudySegment` rows are the server's own account of
which HLS segments it served to the learner, the bound on what heartbeats may claim.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mam.models.core import Base, County, Episode, User, Version, utcnow

if TYPE_CHECKING:
    from mam.models.network import PlaybackPoint


class Learner(Base):
    """A learner's profile: the county that created the account, the phone that signs in."""

    __tablename__ = "learner"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), unique=True
    )
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    # The playback point (播放网点) the learner belongs to (revision 0023_rollup): a point of
    # the learner's county; a point with learners is deactivated, never deleted.
    point_id: Mapped[int | None] = mapped_column(ForeignKey("playback_point.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    county: Mapped[County] = relationship()
    point: Mapped[PlaybackPoint | None] = relationship()


class StudyRecord(Base):
    """What one learner studied of one episode: seconds credited, where to resume."""

    __tablename__ = "study_record"
    __table_args__ = (
        UniqueConstraint("user_id", "episode_id"),
        Index("ix_study_record_county_id_completed_at", "county_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"))
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"))
    duration: Mapped[float] = mapped_column(Float)
    watched_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    position: Mapped[float] = mapped_column(Float, default=0.0)
    completed_at: Mapped[datetime | None] = mapped_column(index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    # Wall-clock time up to which study has been credited (mam.services.study).
    credit_clock: Mapped[datetime | None] = mapped_column()

    episode: Mapped[Episode] = relationship()
    version: Mapped[Version] = relationship()

    @property
    def completed(self) -> bool:
        """Say whether the learner has watched at least 90 % of the episode."""
        return self.completed_at is not None


class StudySegment(Base):
    """One HLS segment (by its position in the film) served to a learner's sign-in session.

    The same position in another rung is the same stretch of film, so it counts once.
    """

    __tablename__ = "study_segment"
    __table_args__ = (UniqueConstraint("user_id", "version_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    login_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("login_session.id", ondelete="SET NULL")
    )
    served_at: Mapped[datetime] = mapped_column(default=utcnow)


class StudyDay(Base):
    """Seconds credited to a learner for an episode on one day (monthly figures sum these)."""

    __tablename__ = "study_day"
    __table_args__ = (
        UniqueConstraint("user_id", "episode_id", "day"),
        Index("ix_study_day_county_id_day", "county_id", "day"),  # a county's month
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"))
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"))
    day: Mapped[date] = mapped_column(Date, index=True)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
