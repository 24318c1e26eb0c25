"""SQL building blocks of the assessment (目标考核): periods, grains, scopes, dialect helpers.

Everything here compiles on SQLite and on PostgreSQL; the figures are aggregated by the
database (GROUP BY), never by loading rows into Python.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, Float, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from mam.errors import InvalidInput
from mam.i18n import N_
from mam.models.network import Plan, PlanEntry, PlaybackPoint, Township
from mam.models.release import Screening

MAX_MONTHS = 60  # five years: the longest period a dashboard shows


class Grain(enum.StrEnum):
    """What the figures are grouped by."""

    COUNTY = "county"
    TOWNSHIP = "township"
    POINT = "point"


@dataclass(frozen=True)
class Period:
    """Whole months: ``start`` is the first day of the first month, ``end`` the day after."""

    start: date
    end: date

    @classmethod
    def months(cls, first: str, last: str) -> Period:
        """Return the period from month ``first`` to month ``last`` (``YYYY-MM``, inclusive)."""
        try:
            a = datetime.strptime(first, "%Y-%m").date()
            b = datetime.strptime(last, "%Y-%m").date()
        except ValueError as exc:
            raise InvalidInput(N_("A month is written as YYYY-MM.")) from exc
        if b < a:
            raise InvalidInput(N_("The period ends before it starts."))
        period = cls(a, add_months(b, 1))
        if len(period.month_keys()) > MAX_MONTHS:
            raise InvalidInput(
                N_("A period is at most %(months)s months."), params={"months": MAX_MONTHS}
            )
        return period

    def month_keys(self) -> list[str]:
        """Return ``YYYY-MM`` for every month of the period, in order."""
        keys, day = [], self.start
        while day < self.end:
            keys.append(day.strftime("%Y-%m"))
            day = add_months(day, 1)
        return keys

    @property
    def start_at(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)

    @property
    def label(self) -> str:
        keys = self.month_keys()
        return keys[0] if len(keys) == 1 else f"{keys[0]} – {keys[-1]}"


def add_months(day: date, n: int) -> date:
    """Return the first day of the month ``n`` months after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Scope:
    """What the reader may see: everything, one county, or one township."""

    county_id: int | None = None
    township_id: int | None = None


class year_month(FunctionElement[str]):
    """``YYYY-MM`` of a date column, on every dialect."""

    type = String()
    inherit_cache = True


@compiles(year_month)
def _year_month_default(element: year_month, compiler: Any, **kw: Any) -> str:
    return f"date_trunc('month', {compiler.process(element.clauses, **kw)})"


@compiles(year_month, "sqlite")
def _year_month_sqlite(element: year_month, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


class month_start(FunctionElement[date]):
    """The first day of a date's month, as a date, on every dialect."""

    type = Date()
    inherit_cache = True


@compiles(month_start)
def _month_start_pg(element: month_start, compiler: Any, **kw: Any) -> str:
    return f"CAST(date_trunc('month', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(month_start, "sqlite")
def _month_start_sqlite(element: month_start, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, 'start of month')"


class date_part(FunctionElement[int]):
    """The year or the month number of a date, as an integer, on every dialect."""

    type = Integer()
    inherit_cache = True

    def __init__(self, part: str, column: Any) -> None:
        self.part = part
        super().__init__(column)


@compiles(date_part)
def _date_part_pg(element: date_part, compiler: Any, **kw: Any) -> str:
    return (
        f"CAST(extract({element.part} from {compiler.process(element.clauses, **kw)}) AS INTEGER)"
    )


@compiles(date_part, "sqlite")
def _date_part_sqlite(element: date_part, compiler: Any, **kw: Any) -> str:
    fmt = "%Y" if element.part == "year" else "%m"
    return f"CAST(strftime('{fmt}', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


def month_key(value: object) -> str:
    """Return ``YYYY-MM`` of what :class:`year_month` gave (text or a timestamp)."""
    return str(value)[:7]


class days_between(FunctionElement[float]):
    """Days (with fractions) from the first timestamp to the second; NULL if either is."""

    type = Float()
    inherit_cache = True


@compiles(days_between)
def _days_between_default(element: days_between, compiler: Any, **kw: Any) -> str:
    a, b = list(element.clauses)
    later, earlier = compiler.process(b, **kw), compiler.process(a, **kw)
    return f"(extract(epoch from ({later} - {earlier})) / 86400.0)"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    a, b = list(element.clauses)
    later, earlier = compiler.process(b, **kw), compiler.process(a, **kw)
    return f"(julianday({later}) - julianday({earlier}))"


def plan_key(grain: Grain) -> Any:
    """Return the grouping column of plan entries (joined to Plan and Township)."""
    return {
        Grain.COUNTY: Township.county_id,
        Grain.TOWNSHIP: Plan.township_id,
        Grain.POINT: PlanEntry.point_id,
    }[grain]


def screening_key(grain: Grain) -> Any:
    """Return the grouping column of screenings."""
    return {
        Grain.COUNTY: Screening.county_id,
        Grain.TOWNSHIP: Screening.township_id,
        Grain.POINT: Screening.point_id,
    }[grain]


def point_key(grain: Grain) -> Any:
    """Return the grouping column of playback points (joined to Township)."""
    return {
        Grain.COUNTY: Township.county_id,
        Grain.TOWNSHIP: PlaybackPoint.township_id,
        Grain.POINT: PlaybackPoint.id,
    }[grain]


def plan_scope(scope: Scope) -> list[ColumnElement[bool]]:
    """Return the filters that keep plan entries (joined to Township) inside ``scope``."""
    where: list[ColumnElement[bool]] = []
    if scope.county_id is not None:
        where.append(Township.county_id == scope.county_id)
    if scope.township_id is not None:
        where.append(Plan.township_id == scope.township_id)
    return where


def screening_scope(scope: Scope) -> list[ColumnElement[bool]]:
    """Return the filters that keep screenings inside ``scope``."""
    where: list[ColumnElement[bool]] = []
    if scope.county_id is not None:
        where.append(Screening.county_id == scope.county_id)
    if scope.township_id is not None:
        where.append(Screening.township_id == scope.township_id)
    return where


def township_scope(scope: Scope) -> list[ColumnElement[bool]]:
    """Return the filters that keep townships (and what joins them) inside ``scope``."""
    where: list[ColumnElement[bool]] = []
    if scope.county_id is not None:
        where.append(Township.county_id == scope.county_id)
    if scope.township_id is not None:
        where.append(Township.id == scope.township_id)
    return where
