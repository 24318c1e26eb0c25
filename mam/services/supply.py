"""What a county actually received: the films its townships may plan, focus on and report.

A film (an episode of a release set) is *supplied* to a county when the release set is
published (not a draft, not withdrawn) and aimed at the county (a target, or all counties),
and the county has it in hand: it confirmed receipt of the set, or one of its downloads of
a package of the set completed (every byte sent). A set that was only announced is not
enough: a township cannot screen what the county has not got.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from mam.errors import InvalidInput
from mam.i18n import N_
from mam.models import Episode, Programme
from mam.models.release import (
    Download,
    Receipt,
    ReleaseItem,
    ReleasePackage,
    ReleaseSet,
    ReleaseState,
    ReleaseTarget,
)


@dataclass(frozen=True)
class SuppliedFilm:
    """An episode a county has, and the release set it came in."""

    release_id: int
    release_name: str
    episode_id: int
    programme: str
    title: str
    number: int | None

    @property
    def label(self) -> str:
        """Return 《programme》 title (the way the centre writes a film)."""
        return f"《{self.programme}》{self.title}"


def _received(county_id: int) -> tuple[ColumnElement[bool], ...]:
    targeted = exists().where(
        ReleaseTarget.release_id == ReleaseSet.id, ReleaseTarget.county_id == county_id
    )
    receipt = exists().where(Receipt.release_id == ReleaseSet.id, Receipt.county_id == county_id)
    downloaded = exists().where(
        Download.package_id == ReleasePackage.id,
        ReleasePackage.release_id == ReleaseSet.id,
        Download.county_id == county_id,
        Download.completed,
    )
    return (
        ReleaseSet.state == ReleaseState.PUBLISHED,
        or_(ReleaseSet.all_counties, targeted),
        or_(receipt, downloaded),
    )


def supplied_films(session: Session, county_id: int) -> list[SuppliedFilm]:
    """Return every film the county has in hand, newest release set first."""
    rows = session.execute(
        select(
            ReleaseSet.id,
            ReleaseSet.name,
            Episode.id,
            Programme.name,
            Episode.title,
            Episode.number,
        )
        .join(ReleaseItem, ReleaseItem.release_id == ReleaseSet.id)
        .join(Episode, Episode.id == ReleaseItem.episode_id)
        .join(Programme, Programme.id == Episode.programme_id)
        .where(*_received(county_id))
        .order_by(ReleaseSet.published_at.desc(), ReleaseSet.id.desc(), ReleaseItem.position)
    )
    return [SuppliedFilm(*r) for r in rows]


def require_supplied(session: Session, county_id: int, release_id: int, episode_id: int) -> None:
    """Refuse a film the county has not received (or a set it is not in)."""
    found = session.scalar(
        select(ReleaseItem.id)
        .join(ReleaseSet, ReleaseSet.id == ReleaseItem.release_id)
        .where(
            ReleaseItem.release_id == release_id,
            ReleaseItem.episode_id == episode_id,
            *_received(county_id),
        )
    )
    if found is None:
        raise InvalidInput(
            N_(
                "This film is not among the films the county received (a published release "
                "set whose receipt was confirmed or whose package was downloaded)."
            ),
            field="film",
        )


def parse_film(value: object) -> tuple[int, int]:
    """Parse a film choice written as ``<release id>:<episode id>``."""
    text = "" if value is None else str(value)
    release, _, episode = text.partition(":")
    if release.isascii() and release.isdigit() and episode.isascii() and episode.isdigit():
        r, e = int(release), int(episode)
        if 0 < r < 2**63 and 0 < e < 2**63:
            return r, e
    raise InvalidInput(N_("Choose a film from the list."), field="film")
