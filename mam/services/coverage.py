"""What counties did with release sets: coverage per set, the dashboard, county profiles."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from mam.audit import AuditAction, ObjectType, record
from mam.errors import InvalidInput
from mam.messages import release as release_messages
from mam.models import County, User, utcnow
from mam.models.release import (
    Download,
    Receipt,
    ReleaseSet,
    ReleaseState,
    Screening,
    ScreeningOutcome,
)
from mam.services.county_distribution import CountyDistribution
from mam.services.downloads import DownloadLog
from mam.services.release_base import PUBLISHERS, ReleaseBase, require_role

# Supply standard: one set of discs/USB sticks per this many administrative villages.
VILLAGES_PER_SET = 3
OVERDUE_AFTER = timedelta(days=15)


@dataclass(frozen=True)
class CountyCoverage:
    """One targeted county's progress on one release set."""

    county: County
    downloaded: bool
    confirmed_at: datetime | None
    overdue: bool
    copies_needed: int
    screenings: int
    viewers: int
    # Of the package the county got furthest with, the percentage of its bytes sent so far
    # (100 once downloaded); tells "started but cut off" from "not started".
    received_percent: int = 0


@dataclass(frozen=True)
class ReleaseSummary:
    """One release set's totals over its target counties."""

    release: ReleaseSet
    counties: int
    downloaded: int
    confirmed: int
    overdue: int
    copies: int
    screenings: int
    viewers: int

    @property
    def confirmed_percent(self) -> float:
        """Return the share of target counties that confirmed receipt."""
        return 100.0 * self.confirmed / self.counties if self.counties else 0.0


def copies_needed(county: County, villages_per_set: int = VILLAGES_PER_SET) -> int:
    """Return the sets a county must duplicate: one per ``villages_per_set`` villages."""
    return max(1, math.ceil(county.villages / villages_per_set)) if county.villages else 1


class CoverageReports(ReleaseBase):
    """Coverage figures for publishers (they read what the county side recorded)."""

    def coverage(
        self,
        release: ReleaseSet,
        *,
        now: datetime | None = None,
        villages_per_set: int = VILLAGES_PER_SET,
    ) -> list[CountyCoverage]:
        """Return, per targeted county: downloaded, confirmed, overdue, copies needed, use."""
        now = now or utcnow()
        package_ids = [p.id for p in release.packages]
        downloaded = set(
            self.session.scalars(
                select(Download.county_id).where(
                    Download.package_id.in_(package_ids), Download.completed
                )
            )
        )
        received = DownloadLog(self.session).received_percent(
            {p.id: p.size or 0 for p in release.packages}
        )
        receipts = {
            r.county_id: r.confirmed_at
            for r in self.session.scalars(select(Receipt).where(Receipt.release_id == release.id))
        }
        use = {
            cid: (n, v)
            for cid, n, v in self.session.execute(
                select(
                    Screening.county_id, func.count(), func.coalesce(func.sum(Screening.viewers), 0)
                )
                .where(
                    Screening.release_id == release.id,
                    Screening.outcome != ScreeningOutcome.NOT_HELD,  # reported as not held
                )
                .group_by(Screening.county_id)
            )
        }
        late = (
            release.published_at is not None
            and release.state == ReleaseState.PUBLISHED
            and now - release.published_at > OVERDUE_AFTER
        )
        return [
            CountyCoverage(
                county=c,
                downloaded=c.id in downloaded,
                confirmed_at=receipts.get(c.id),
                overdue=late and c.id not in receipts,
                copies_needed=copies_needed(c, villages_per_set),
                screenings=use.get(c.id, (0, 0))[0],
                viewers=int(use.get(c.id, (0, 0))[1]),
                received_percent=100 if c.id in downloaded else received.get(c.id, 0),
            )
            for c in self.target_counties(release)
        ]

    def dashboard(self, *, now: datetime | None = None) -> list[ReleaseSummary]:
        """Summarise every published or withdrawn set, oldest first (for the chart)."""
        sets = self.session.scalars(
            select(ReleaseSet)
            .where(ReleaseSet.state != ReleaseState.DRAFT)
            .order_by(ReleaseSet.published_at)
        ).all()
        rows = []
        for release in sets:
            cov = self.coverage(release, now=now)
            rows.append(
                ReleaseSummary(
                    release=release,
                    counties=len(cov),
                    downloaded=sum(c.downloaded for c in cov),
                    confirmed=sum(c.confirmed_at is not None for c in cov),
                    overdue=sum(c.overdue for c in cov),
                    copies=sum(c.copies_needed for c in cov),
                    screenings=sum(c.screenings for c in cov),
                    viewers=sum(c.viewers for c in cov),
                )
            )
        return rows

    def county_history(self, county: County) -> list[tuple[ReleaseSet, CountyCoverage]]:
        """Return each set sent to ``county`` with what the county did with it."""
        history = []
        for release in CountyDistribution(self.session).for_county(county.id):
            row = next(c for c in self.coverage(release) if c.county.id == county.id)
            history.append((release, row))
        return history

    def update_county_profile(
        self, county: County, *, villages: int, playback_points: int, actor: User
    ) -> None:
        """Set a county's villages and playback points (the copies-needed figure uses them)."""
        require_role(actor, PUBLISHERS, "edit county profiles")
        if not (0 <= villages <= 100_000 and 0 <= playback_points <= 100_000):
            raise InvalidInput(release_messages.COUNTY_FIGURES)
        before = {"villages": county.villages, "playback_points": county.playback_points}
        county.villages, county.playback_points = villages, playback_points
        record(
            self.session,
            AuditAction.COUNTY_PROFILE_CHANGED,
            actor,
            ObjectType.COUNTY,
            county.id,
            details={"before": before, "villages": villages, "playback_points": playback_points},
        )
        self.session.flush()
