"""The build-out rate (建点率), computed from the rows, never typed in.

An organisation counts when it is active and its township is active; it is *built* when at
least one active playback point serves it (``PlaybackPoint.organisation_id``). The rate is
built ÷ organisations, per county and kind or per township and kind; with no organisation
recorded the rate is unknown (None), not 0 % or 100 %.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from mam.models import County
from mam.models.network import Organisation, PlaybackPoint, PointKind, Township


@dataclass(frozen=True)
class BuildOut:
    """Organisations that should have a point, and how many have one."""

    organisations: int
    built: int

    @property
    def rate(self) -> float | None:
        """Return built ÷ organisations (None when there is nothing to build)."""
        return self.built / self.organisations if self.organisations else None

    def __add__(self, other: BuildOut) -> BuildOut:
        return BuildOut(self.organisations + other.organisations, self.built + other.built)


@dataclass(frozen=True)
class BuildOutRow:
    """One county (or township): its total and its figures per kind."""

    id: int
    name: str
    total: BuildOut
    by_kind: dict[PointKind, BuildOut]


def _counts(
    session: Session, group: InstrumentedAttribute[int], county_ids: Iterable[int] | None
) -> list[tuple[Any, ...]]:
    served = exists().where(PlaybackPoint.organisation_id == Organisation.id, PlaybackPoint.active)
    query = (
        select(
            group,
            Organisation.kind,
            func.count(Organisation.id),
            func.sum(case((served, 1), else_=0)),
        )
        .join(Township, Township.id == Organisation.township_id)
        .where(Organisation.active, Township.active)
        .group_by(group, Organisation.kind)
    )
    if county_ids is not None:
        query = query.where(Township.county_id.in_(list(county_ids)))
    return [tuple(r) for r in session.execute(query)]


def _rows(counts: list[tuple[Any, ...]], names: dict[int, str]) -> list[BuildOutRow]:
    per: dict[int, dict[PointKind, BuildOut]] = {i: {} for i in names}
    for ident, kind, total, built in counts:
        per.setdefault(ident, {})[PointKind(kind)] = BuildOut(int(total), int(built or 0))
    out = []
    for ident, kinds in per.items():
        total = sum(kinds.values(), BuildOut(0, 0))
        out.append(BuildOutRow(ident, names.get(ident, str(ident)), total, kinds))
    return sorted(out, key=lambda r: r.name)


def by_county(session: Session, county_ids: Iterable[int] | None = None) -> list[BuildOutRow]:
    """Return the build-out of each county (``county_ids``: only these; None: all)."""
    ids = None if county_ids is None else list(county_ids)
    query = select(County.id, County.name)
    if ids is not None:
        query = query.where(County.id.in_(ids))
    names = {int(i): str(n) for i, n in session.execute(query).all()}
    return _rows(_counts(session, Township.county_id, ids), names)


def by_township(session: Session, county_id: int) -> list[BuildOutRow]:
    """Return the build-out of each active township of a county."""
    query = select(Township.id, Township.name).where(
        Township.county_id == county_id, Township.active
    )
    names = {int(i): str(n) for i, n in session.execute(query).all()}
    return _rows(_counts(session, Township.id, [county_id]), names)
