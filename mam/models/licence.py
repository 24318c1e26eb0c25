"""Licences (版权许可) of imported and general teaching material: who, what for, where, when.

A licence belongs to one episode, or to a programme (its episodes without a licence of their
own inherit it). ``ends_on`` is the last licensed day: the licence has expired from the day
after. ``uses`` are package kinds (``tv`` broadcast, ``playback`` village playback, ``web``
online learning); the territory is every county or the listed ones. LicenceNotice rows keep
which expiry notices were sent (one per licence, kind and end date), so the beat task sends
each once and a licence renewed with a new end date is watched again.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mam.models.core import Base, County, Episode, Programme, User, utcnow

USES = ("tv", "playback", "web")  # the package kinds (mam.models.release.PackageKind)
LIBRARY_TZ = ZoneInfo("Asia/Shanghai")  # the library's calendar: licence dates are its days
EXPIRING_DAYS = 30  # a licence ending within this many days is "expiring" (and noticed)


class Licence(Base):
    """The licence of one episode or of one programme (exactly one of the two is set)."""

    __tablename__ = "licence"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int | None] = mapped_column(
        ForeignKey("episode.id", ondelete="CASCADE"), unique=True
    )
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), unique=True
    )
    holder: Mapped[str] = mapped_column(String(200))
    contract_ref: Mapped[str] = mapped_column(String(100), default="")
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, index=True)  # None: no end
    uses: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(USES))
    all_counties: Mapped[bool] = mapped_column(default=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    episode: Mapped[Episode | None] = relationship()
    programme: Mapped[Programme | None] = relationship()
    updated_by: Mapped[User | None] = relationship()
    territory: Mapped[list[LicenceCounty]] = relationship(
        cascade="all, delete-orphan", order_by="LicenceCounty.county_id"
    )

    @property
    def county_ids(self) -> set[int]:
        """Return the ids of the licensed counties (empty when all counties are)."""
        return {t.county_id for t in self.territory}


class LicenceCounty(Base):
    """A county in a licence's territory (when not all counties)."""

    __tablename__ = "licence_county"
    __table_args__ = (UniqueConstraint("licence_id", "county_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licence.id", ondelete="CASCADE"))
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"))

    county: Mapped[County] = relationship()


class LicenceNotice(Base):
    """An expiry notice sent for a licence: ``ahead`` (30 days before) or ``expired``."""

    __tablename__ = "licence_notice"
    __table_args__ = (UniqueConstraint("licence_id", "kind", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licence.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    ends_on: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
