"""Release sets (供片批次) for county centres, their packages, downloads and feedback."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mam.models.core import Base, County, Episode, User, Version, _enum, utcnow

if TYPE_CHECKING:
    from mam.models.network import PlanEntry, PlaybackPoint, Township


class ReleaseState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class PackageKind(enum.StrEnum):
    TV = "tv"  # broadcast renditions for county TV columns
    PLAYBACK = "playback"  # MP4s for village playback points (USB sticks)
    WEB = "web"  # HLS folders for online learning


class ScreeningOutcome(enum.StrEnum):
    HELD = "held"  # held as planned (or reported without a plan)
    MOVED = "moved"  # held, but on another day or at another point than planned (reason)
    NOT_HELD = "not_held"  # planned but not held (reason); counts no attendance


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
    # What the set is for: the package kinds built (tv,playback,web), comma-separated (a
    # text, not JSON: release sets are compared and DISTINCTed); its licences must allow them.
    uses_text: Mapped[str] = mapped_column(
        "uses", String(64), default="tv,playback,web", server_default="tv,playback,web"
    )
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    # A logo overriding the site's and the county's on this set's TV package (0023_branding).
    logo_key: Mapped[str | None] = mapped_column(String(300))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    items: Mapped[list[ReleaseItem]] = relationship(
        back_populates="release", cascade="all, delete-orphan", order_by="ReleaseItem.position"
    )
    targets: Mapped[list[ReleaseTarget]] = relationship(
        back_populates="release", cascade="all, delete-orphan"
    )
    packages: Mapped[list[ReleasePackage]] = relationship(
        back_populates="release",
        cascade="all, delete-orphan",
        order_by="[ReleasePackage.kind, ReleasePackage.id]",
    )
    created_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def uses(self) -> list[str]:
        """Return the package kinds the set is for (tv, playback, web)."""
        return [u for u in (self.uses_text or "").split(",") if u]

    @uses.setter
    def uses(self, value: list[str]) -> None:
        self.uses_text = ",".join(value)


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


SHARED_PACKAGE = text("county_id IS NULL")


class ReleasePackage(Base):
    """One BagIt ZIP of a release set for one kind of deliverable; its state moves only
    through ``mam.machines.PACKAGE``.

    ``county_id`` empty: the package every target county without a package of its own
    downloads (one per set and kind). Set: the package meant for that county alone, e.g.
    the TV package rendered with the county's own logo (0025_county_packages)."""

    __tablename__ = "release_package"
    __table_args__ = (
        UniqueConstraint(
            "release_id", "kind", "county_id", name="uq_release_package_release_kind_county"
        ),
        Index(
            "uq_release_package_shared",
            "release_id",
            "kind",
            unique=True,
            sqlite_where=SHARED_PACKAGE,
            postgresql_where=SHARED_PACKAGE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release_set.id", ondelete="CASCADE"))
    kind: Mapped[PackageKind] = mapped_column(_enum(PackageKind))
    county_id: Mapped[int | None] = mapped_column(ForeignKey("county.id"), index=True)
    state: Mapped[PackageState] = mapped_column(_enum(PackageState), default=PackageState.QUEUED)
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
    county: Mapped[County | None] = relationship()

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
    """A screening (放映) report.

    Two grains share the table: a county's report per release set (``episode_id`` and
    ``point_id`` empty, ``place`` typed in; the reports made before the network existed), and
    a report per episode and playback point, usually against a plan entry, with its outcome.
    ``viewers`` is the total attendance; ``party_members`` + ``masses`` split it (党员/群众)
    where the site asks for the split (MAM_SCREENING_PARTY_SPLIT).
    """

    __tablename__ = "screening"
    __table_args__ = (
        Index("ix_screening_county_day", "county_id", "screened_on"),
        Index("ix_screening_point_day", "point_id", "screened_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release_set.id"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    screened_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200))
    viewers: Mapped[int] = mapped_column(Integer)
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The network grain (revision 0019_network); empty on county-level reports.
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episode.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("township.id"), index=True)
    point_id: Mapped[int | None] = mapped_column(ForeignKey("playback_point.id"))
    plan_entry_id: Mapped[int | None] = mapped_column(ForeignKey("plan_entry.id"), unique=True)
    outcome: Mapped[ScreeningOutcome] = mapped_column(
        _enum(ScreeningOutcome), default=ScreeningOutcome.HELD, server_default="held"
    )
    reason: Mapped[str | None] = mapped_column(Text)
    screened_time: Mapped[time | None] = mapped_column(Time)
    party_members: Mapped[int | None] = mapped_column(Integer)
    masses: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    photo_key: Mapped[str | None] = mapped_column(String(300))
    photo_type: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime | None] = mapped_column()

    release: Mapped[ReleaseSet] = relationship()
    episode: Mapped[Episode | None] = relationship()
    township: Mapped[Township | None] = relationship()
    point: Mapped[PlaybackPoint | None] = relationship()
    plan_entry: Mapped[PlanEntry | None] = relationship()
