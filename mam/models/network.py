"""The playback network (放映网络): townships, playback points, focus, plans, copies.

County 1—n Township (乡镇电教站) 1—n PlaybackPoint (播放网点); the organisations that should
have a point (Organisation) give the build-out rate (建点率) its denominator. A county sets
its Focus (播放收看重点) per period; a township draws up a monthly Plan of PlanEntry rows
(episode × point × date); screenings (``mam.models.release.Screening``) are reported against
plan entries; FilmCopy rows (USB sticks, discs) circulate between points (CopyMovement).
Figures (build-out, utilisation, coverage) are computed from these rows, never typed in.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import Date, ForeignKey, Index, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mam.models.core import Base, County, Episode, User, _enum, utcnow
from mam.models.release import ReleaseSet


class PointKind(enum.StrEnum):
    VILLAGE = "village"  # 行政村
    COMMUNITY = "community"  # 城市社区
    ENTERPRISE = "enterprise"  # 非公企业
    SOCIAL_ORG = "social_org"  # 社会组织
    SCHOOL = "school"  # 学校
    OTHER = "other"  # 其他


class CopyMedium(enum.StrEnum):
    USB = "usb"  # U盘
    DISC = "disc"  # 光盘


class Township(Base):
    """A township station (乡镇电教站) of a county."""

    __tablename__ = "township"
    __table_args__ = (UniqueConstraint("county_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(32))
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    county: Mapped[County] = relationship()
    points: Mapped[list[PlaybackPoint]] = relationship(
        back_populates="township", order_by="PlaybackPoint.name"
    )


class Organisation(Base):
    """An organisation that should have a playback point (village, community, enterprise…)."""

    __tablename__ = "network_organisation"
    __table_args__ = (UniqueConstraint("township_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("township.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PointKind] = mapped_column(_enum(PointKind), index=True)
    active: Mapped[bool] = mapped_column(default=True)  # dissolved or merged: False
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    township: Mapped[Township] = relationship()


class PlaybackPoint(Base):
    """A playback point (播放网点) run by a township, usually for one organisation."""

    __tablename__ = "playback_point"
    __table_args__ = (UniqueConstraint("township_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("township.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("network_organisation.id"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PointKind] = mapped_column(_enum(PointKind))
    address: Mapped[str] = mapped_column(String(300), default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    township: Mapped[Township] = relationship(back_populates="points")
    organisation: Mapped[Organisation | None] = relationship()


class Focus(Base):
    """A county's playback and viewing focus (播放收看重点) for a period."""

    __tablename__ = "network_focus"

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    themes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    county: Mapped[County] = relationship()
    films: Mapped[list[FocusFilm]] = relationship(
        back_populates="focus", cascade="all, delete-orphan", order_by="FocusFilm.id"
    )


class FocusFilm(Base):
    """An episode a focus recommends, from a release set the county received."""

    __tablename__ = "network_focus_film"
    __table_args__ = (UniqueConstraint("focus_id", "episode_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    focus_id: Mapped[int] = mapped_column(ForeignKey("network_focus.id", ondelete="CASCADE"))
    release_id: Mapped[int] = mapped_column(ForeignKey("release_set.id"))
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"))

    focus: Mapped[Focus] = relationship(back_populates="films")
    release: Mapped[ReleaseSet] = relationship()
    episode: Mapped[Episode] = relationship()


class Plan(Base):
    """A township's monthly playback and viewing plan (播放收看计划)."""

    __tablename__ = "playback_plan"
    __table_args__ = (UniqueConstraint("township_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("township.id"), index=True)
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    township: Mapped[Township] = relationship()
    entries: Mapped[list[PlanEntry]] = relationship(
        back_populates="plan",
        cascade="all, delete-orphan",
        order_by="(PlanEntry.planned_on, PlanEntry.planned_time, PlanEntry.id)",
    )


class PlanEntry(Base):
    """One planned screening: which episode (of which release set), at which point, when."""

    __tablename__ = "plan_entry"
    __table_args__ = (Index("ix_plan_entry_point_day", "point_id", "planned_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("playback_plan.id", ondelete="CASCADE"), index=True
    )
    release_id: Mapped[int] = mapped_column(ForeignKey("release_set.id"), index=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), index=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("playback_point.id"))
    planned_on: Mapped[date] = mapped_column(Date)
    planned_time: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str] = mapped_column(String(300), default="")

    plan: Mapped[Plan] = relationship(back_populates="entries")
    release: Mapped[ReleaseSet] = relationship()
    episode: Mapped[Episode] = relationship()
    point: Mapped[PlaybackPoint] = relationship()


class FilmCopy(Base):
    """A physical copy (USB stick, disc) of a release set or one episode, owned by a township."""

    __tablename__ = "film_copy"
    __table_args__ = (UniqueConstraint("township_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("township.id"), index=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release_set.id"))
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episode.id"))  # None: whole set
    medium: Mapped[CopyMedium] = mapped_column(_enum(CopyMedium))
    label: Mapped[str] = mapped_column(String(64))  # written on the stick or sleeve
    holder_point_id: Mapped[int | None] = mapped_column(  # None: at the township station
        ForeignKey("playback_point.id"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)  # lost or worn out: False
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    township: Mapped[Township] = relationship()
    release: Mapped[ReleaseSet] = relationship()
    episode: Mapped[Episode | None] = relationship()
    holder: Mapped[PlaybackPoint | None] = relationship()
    movements: Mapped[list[CopyMovement]] = relationship(
        back_populates="copy", order_by="CopyMovement.id"
    )


class CopyMovement(Base):
    """A hand-over of a copy (周转): from a point (or the station) to another; append-only."""

    __tablename__ = "copy_movement"

    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("film_copy.id"), index=True)
    from_point_id: Mapped[int | None] = mapped_column(ForeignKey("playback_point.id"))
    to_point_id: Mapped[int | None] = mapped_column(ForeignKey("playback_point.id"))
    moved_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(300), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    copy: Mapped[FilmCopy] = relationship(back_populates="movements")
    from_point: Mapped[PlaybackPoint | None] = relationship(foreign_keys=[from_point_id])
    to_point: Mapped[PlaybackPoint | None] = relationship(foreign_keys=[to_point_id])
    user: Mapped[User | None] = relationship()


__all__ = [
    "CopyMedium",
    "CopyMovement",
    "FilmCopy",
    "Focus",
    "FocusFilm",
    "Organisation",
    "Plan",
    "PlanEntry",
    "PlaybackPoint",
    "PointKind",
    "Township",
]
