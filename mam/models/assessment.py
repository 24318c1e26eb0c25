"""Assessment (目标考核) indexes (revision 0021_assessment) and the monthly rollup (0023_rollup).

The figures are grouped from the network's rows (``mam.models.network``, Screening). The
indexes let PostgreSQL answer the grouped queries from the index alone or by short index
ranges (a county's or township's films, the drill-down). The rollup tables hold the same
counts already grouped per (township, month) and per (point, year), kept in step by the
plan and screening services in the transaction of the change (``mam.services.
assessment_rollup``), so the all-county views read thousands of rows, not millions.
bench/assessment.py times the dashboards on the rollup and on the raw rows.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mam.models.core import Base
from mam.models.network import PlanEntry
from mam.models.release import Screening

INDEXES = (
    Index("ix_plan_entry_day_plan", PlanEntry.planned_on, PlanEntry.plan_id),
    Index(
        "ix_screening_day_groups",
        Screening.screened_on,
        Screening.county_id,
        Screening.township_id,
        Screening.point_id,
        Screening.outcome,
        Screening.viewers,
        Screening.plan_entry_id,
    ),
    Index(
        "ix_screening_county_film",
        Screening.county_id,
        Screening.release_id,
        Screening.episode_id,
        Screening.outcome,
        Screening.screened_on,
    ),
    Index(
        "ix_screening_township_film",
        Screening.township_id,
        Screening.release_id,
        Screening.episode_id,
        Screening.outcome,
        Screening.screened_on,
    ),
)

NO_TOWNSHIP = 0  # the rollup's township of county-level reports (made before the network)


class _MonthCounts:
    """The counters of a month: ``planned``: plan entries dated in the month; ``done``:
    reports against a plan entry, held or moved, dated in the month; ``held`` / ``moved`` /
    ``not_held``: reports by outcome; ``attendance`` (and its split) of held and moved reports.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    planned: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    moved: Mapped[int] = mapped_column(Integer, default=0)
    not_held: Mapped[int] = mapped_column(Integer, default=0)
    attendance: Mapped[int] = mapped_column(Integer, default=0)
    party_members: Mapped[int] = mapped_column(Integer, default=0)
    masses: Mapped[int] = mapped_column(Integer, default=0)


class MonthRollup(_MonthCounts, Base):
    """What one township (or, with township 0, a county's own reports) did in one month."""

    __tablename__ = "assessment_month"
    __table_args__ = (
        UniqueConstraint("county_id", "township_id", "month", name="uq_assessment_month"),
        Index("ix_assessment_month_township", "township_id", "month"),
    )

    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"))
    township_id: Mapped[int] = mapped_column(Integer)  # 0: county-level reports (no township)


class CountyMonthRollup(_MonthCounts, Base):
    """What one county did in one month: the sum of its ``assessment_month`` rows (the
    all-county views read 300 × months rows, not 3,000 × months)."""

    __tablename__ = "assessment_county_month"
    __table_args__ = (UniqueConstraint("county_id", "month", name="uq_assessment_county_month"),)

    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"))


class PointYear(Base):
    """The months of one year in which a playback point had a held (or moved) screening.

    Bit ``m - 1`` of ``months`` is set for month ``m``. A point has a row for every year from
    its first to its last screened year (years between with ``months`` 0), and each row links
    to the point's screenings around it as month numbers (``year × 12 + month − 1``):
    ``before``, the last screened month before the year (None in the point's first row), and
    ``after``, the first screened month after it (None in the last). So whether a point was
    covered in a period of any length is read from one row: its row of the period's first
    year (a bit in the period, or ``after`` before the period's end), or, for a point first
    screened later, its first row (revision 0025_rollup_fast).
    """

    __tablename__ = "assessment_point_year"
    __table_args__ = (
        UniqueConstraint("point_id", "year", name="uq_assessment_point_year"),
        Index(
            "ix_assessment_point_year_groups",
            "county_id",
            "year",
            "township_id",
            "point_id",
            "months",
        ),
        Index("ix_assessment_point_year_township", "township_id", "year"),
        Index("ix_assessment_point_year_chain", "year", "before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("playback_point.id"))
    year: Mapped[int] = mapped_column(Integer)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"))
    township_id: Mapped[int] = mapped_column(ForeignKey("township.id"))
    months: Mapped[int] = mapped_column(Integer, default=0)
    before: Mapped[int | None] = mapped_column(Integer)  # last screened month before the year
    after: Mapped[int | None] = mapped_column(Integer)  # first screened month after the year


class TownshipNetwork(Base):
    """A township's network now: active points, active organisations, and those of them an
    active point serves (build-out's 建点率 and coverage's denominator, per township, so the
    all-county page sums 3,000 rows instead of joining every point and organisation). Kept by
    ``NetworkService`` in the transaction of the change (revision 0025_rollup_fast)."""

    __tablename__ = "assessment_township_network"
    __table_args__ = (
        UniqueConstraint("township_id", name="uq_assessment_township_network"),
        Index("ix_assessment_township_network_county", "county_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"))
    township_id: Mapped[int] = mapped_column(Integer)  # no key: a township deleted goes first
    points: Mapped[int] = mapped_column(Integer, default=0)
    organisations: Mapped[int] = mapped_column(Integer, default=0)
    served: Mapped[int] = mapped_column(Integer, default=0)


class FilmFirst(Base):
    """The first day a county held (or moved) a screening of a film of a release set.

    Utilisation (利用率) asks, per film supplied, whether the county screened it by the end of
    the period: one row per (county, set, episode) instead of a search through the reports.
    """

    __tablename__ = "assessment_film"
    __table_args__ = (
        UniqueConstraint("county_id", "release_id", "episode_id", name="uq_assessment_film"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"))
    release_id: Mapped[int] = mapped_column(ForeignKey("release_set.id"))
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"))
    first_on: Mapped[date | None] = mapped_column(Date)  # None: no held screening (any more)


class ReleaseMonth(Base):
    """How many films of a release set a county screened (held or moved) for the first time
    in a month: utilisation's numerator is a sum over the months before the period's end."""

    __tablename__ = "assessment_release_month"
    __table_args__ = (
        UniqueConstraint("county_id", "release_id", "month", name="uq_assessment_release_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"))
    release_id: Mapped[int] = mapped_column(ForeignKey("release_set.id"))
    month: Mapped[date] = mapped_column(Date)
    films: Mapped[int] = mapped_column(Integer, default=0)
