"""Release sets (供片批次) for county centres, their packages, downloads and feedback."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mam.models.core import Base, County, Episode, User, Version, _enum, utcnow


class ReleaseState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class PackageKind(enum.StrEnum):
    TV = "tv"  # broadcast renditions for county TV columns
    PLAYBACK = "playback"  # MP4s for village playback points (USB sticks)
    WEB = "web"  # HLS folders for online learning


class PackageState(enum.StrEnum):
    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


class ReleaseSet(Base):
    """A monthly supply set, e.g. 2026年第12期; immutable once published. Its state moves
    only through ``mam.machines.RELEASE``."""

    __tablename__ = "release_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    publish_date: Mapped[date | None] = mapped_column(Date)
    state: Mapped[ReleaseState] = mapped_column(
        _enum(ReleaseState), default=ReleaseState.DRAFT, index=True
    )
    all_counties: Mapped[bool] = mapped_column(default=False)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    items: Mapped[list[ReleaseItem]] = relationship(
        back_populates="release", cascade="all, delete-orphan", order_by="ReleaseItem.position"
    )
    targets: Mapped[list[ReleaseTarget]] = relationship(
        back_populates="release", cascade="all, delete-orphan"
    )
    packages: Mapped[list[ReleasePackage]] = relationship(
        back_populates="release", cascade="all, delete-orphan", order_by="ReleasePackage.kind"
    )
    created_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": lock_version}


class ReleaseItem(Base):
    """An episode in a release set, pinned to the version that was approved."""

    __tablename__ = "release_item"
    __table_args__ = (UniqueConstraint("release_id", "episode_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release_set.id", ondelete="CASCADE"))
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    release: Mapped[ReleaseSet] = relationship(back_populates="items")
    episode: Mapped[Episode] = relationship()
    version: Mapped[Version] = relationship()


class ReleaseTarget(Base):
    """A county a release set is sent to."""

    __tablename__ = "release_target"
    __table_args__ = (UniqueConstraint("release_id", "county_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release_set.id", ondelete="CASCADE"))
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"))

    release: Mapped[ReleaseSet] = relationship(back_populates="targets")
    county: Mapped[County] = relationship()


class ReleasePackage(Base):
    """One BagIt ZIP of a release set for one kind of deliverable; its state moves only
    through ``mam.machines.PACKAGE``."""

    __tablename__ = "release_package"
    __table_args__ = (UniqueConstraint("release_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release_set.id", ondelete="CASCADE"))
    kind: Mapped[PackageKind] = mapped_column(_enum(PackageKind))
    state: Mapped[PackageState] = mapped_column(
        _enum(PackageState), default=PackageState.QUEUED
    )
    progress: Mapped[float] = mapped_column(default=0.0)
    storage_key: Mapped[str | None] = mapped_column(String(300))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    files: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    built_at: Mapped[datetime | None] = mapped_column()
    # Build attempts and the running one's lease, as on Job (mam/leases.py).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    worker: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    lock_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    release: Mapped[ReleaseSet] = relationship(back_populates="packages")

    __mapper_args__ = {"version_id_col": lock_version}


class Download(Base):
    """A county user's download of a package (bytes sent, completed or not)."""

    __tablename__ = "download"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("release_package.id"), index=True)
    county_id: Mapped[int | None] = mapped_column(ForeignKey("county.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    range_start: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_sent: Mapped[int] = mapped_column(BigInteger, default=0)
    completed: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)

    package: Mapped[ReleasePackage] = relationship()


class Receipt(Base):
    """A county's confirmation that it received a release set."""

    __tablename__ = "receipt"
    __table_args__ = (UniqueConstraint("release_id", "county_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release_set.id"))
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Screening(Base):
    """A county's report of a screening (放映) of a release set."""

    __tablename__ = "screening"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release_set.id"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    screened_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200))
    viewers: Mapped[int] = mapped_column(Integer)
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
