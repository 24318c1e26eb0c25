"""Release sets for county centres: assemble, publish, withdraw, and what counties did."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mam import inputs
from mam.errors import Conflict, InvalidInput, NotAllowed, NotFound
from mam.i18n import N_
from mam.models import AuditEvent, County, Role, User, Version, VersionState, utcnow
from mam.models.release import (
    Download,
    PackageKind,
    PackageState,
    Receipt,
    ReleaseItem,
    ReleasePackage,
    ReleaseSet,
    ReleaseState,
    ReleaseTarget,
    Screening,
)
from mam.workflow import Event, transition

PUBLISHERS = (Role.PUBLISHER, Role.ADMIN)
# Supply standard: one set of discs/USB sticks per this many administrative villages.
VILLAGES_PER_SET = 3
OVERDUE_AFTER = timedelta(days=15)
MAX_NAME = 200
MAX_NOTES = 5000


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


class ReleaseService:
    """Release sets and the county side of them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ---- publisher side ------------------------------------------------------------

    def get(self, release_id: int) -> ReleaseSet:
        """Return a release set or raise NotFound."""
        release = self.session.get(ReleaseSet, release_id)
        if release is None:
            raise NotFound(f"release set {release_id} does not exist")
        return release

    def create(
        self, name: str, actor: User, *, notes: str = "", publish_date: date | None = None
    ) -> ReleaseSet:
        """Start a draft release set, e.g. 2026年第12期."""
        _require(actor, PUBLISHERS, "create release sets")
        name = inputs.clean_text(name, "name", MAX_NAME)
        notes = inputs.optional_text(notes, "notes", MAX_NOTES, multiline=True)
        if self.session.scalar(select(ReleaseSet.id).where(ReleaseSet.name == name)):
            raise Conflict(
                N_("a release set named %(name)s already exists"), params={"name": name}
            )
        release = ReleaseSet(
            name=name, notes=notes, publish_date=publish_date, created_by_id=actor.id
        )
        self.session.add(release)
        self.session.flush()
        self._audit(actor, release, "release_created")
        self.session.commit()
        return release

    def add_version(self, release: ReleaseSet, version_id: int, actor: User) -> ReleaseItem:
        """Pin an approved version of an episode into a draft set (replacing another cut)."""
        _require(actor, PUBLISHERS, "edit release sets")
        self._require_draft(release)
        version = self.session.get(Version, version_id)
        if version is None:
            raise NotFound(f"version {version_id} does not exist")
        if version.state != VersionState.APPROVED:
            raise NotAllowed(
                f"only approved versions can be released; version {version.id} of "
                f"{version.episode.title} is {version.state.value}"
            )
        item = next((i for i in release.items if i.episode_id == version.episode_id), None)
        if item is None:
            item = ReleaseItem(episode_id=version.episode_id, position=len(release.items) + 1)
            release.items.append(item)
        item.version_id = version.id
        self.session.flush()
        self._audit(actor, release, "release_item_added", version_id=version.id)
        self.session.commit()
        return item

    def remove_item(self, release: ReleaseSet, item_id: int, actor: User) -> None:
        """Take an episode out of a draft set."""
        _require(actor, PUBLISHERS, "edit release sets")
        self._require_draft(release)
        item = next((i for i in release.items if i.id == item_id), None)
        if item is None:
            raise NotFound(f"item {item_id} is not in release set {release.id}")
        release.items.remove(item)
        self._audit(actor, release, "release_item_removed", version_id=item.version_id)
        self.session.commit()

    def set_targets(
        self, release: ReleaseSet, county_ids: Iterable[int] | None, actor: User
    ) -> None:
        """Target every county (``None``) or the given ones."""
        _require(actor, PUBLISHERS, "edit release sets")
        self._require_draft(release)
        release.all_counties = county_ids is None
        wanted = set() if county_ids is None else set(county_ids)
        known = set(self.session.scalars(select(County.id).where(County.id.in_(wanted))))
        if wanted - known:
            raise NotFound(f"unknown county ids: {sorted(wanted - known)}")
        for target in [t for t in release.targets if t.county_id not in wanted]:
            release.targets.remove(target)
        self.session.flush()
        have = {t.county_id for t in release.targets}
        release.targets.extend(ReleaseTarget(county_id=c) for c in sorted(wanted - have))
        self._audit(
            actor,
            release,
            "release_targets_set",
            counties="all" if county_ids is None else sorted(wanted),
        )
        self.session.commit()

    def target_counties(self, release: ReleaseSet) -> list[County]:
        """Return the counties a set is sent to."""
        if release.all_counties:
            return list(self.session.scalars(select(County).order_by(County.code)))
        return sorted((t.county for t in release.targets), key=lambda c: c.code)

    def publish(self, release: ReleaseSet, actor: User) -> list[ReleasePackage]:
        """Publish a draft: every pinned version must still be approved; queue packages."""
        _require(actor, PUBLISHERS, "publish release sets")
        self._require_draft(release)
        if not release.items:
            raise InvalidInput("a release set needs at least one episode")
        if not release.all_counties and not release.targets:
            raise InvalidInput("choose the target counties (or all counties) first")
        for item in release.items:
            version = item.version
            newer = self.session.scalar(
                select(func.max(Version.number)).where(Version.episode_id == version.episode_id)
            )
            if version.state != VersionState.APPROVED or (newer or 0) > version.number:
                raise Conflict(
                    f"《{version.episode.title}》 version {version.number} is no longer approved "
                    f"({version.state.value}); its approval was voided or superseded — "
                    "remove it or pin the newly approved version"
                )
        for item in release.items:
            transition(
                self.session, item.version, Event.RELEASE, actor, details={"release_id": release.id}
            )
        release.state = ReleaseState.PUBLISHED
        release.published_at = utcnow()
        existing = {p.kind for p in release.packages}
        release.packages.extend(ReleasePackage(kind=k) for k in PackageKind if k not in existing)
        self._audit(actor, release, "release_published", to_state="published")
        self.session.commit()
        return list(release.packages)

    def rebuild_package(self, package_id: int, actor: User) -> ReleasePackage:
        """Queue a failed (or stuck) package build again; the caller enqueues it."""
        _require(actor, PUBLISHERS, "rebuild packages")
        package = self.session.get(ReleasePackage, package_id)
        if package is None:
            raise NotFound(f"package {package_id} does not exist")
        if package.release.state != ReleaseState.PUBLISHED:
            raise NotAllowed(f"release set {package.release.name} is {package.release.state.value}")
        if package.state == PackageState.READY:
            raise Conflict(f"package {package.kind.value} of {package.release.name} is ready")
        package.state, package.progress, package.last_error = PackageState.QUEUED, 0.0, None
        self._audit(actor, package.release, "package_rebuild", package_id=package.id)
        self.session.commit()
        return package

    def withdraw(self, release: ReleaseSet, reason: str, actor: User) -> None:
        """Withdraw a published set: downloads stop and counties see the reason."""
        _require(actor, PUBLISHERS, "withdraw release sets")
        if release.state != ReleaseState.PUBLISHED:
            raise NotAllowed(f"release set {release.name} is {release.state.value}, not published")
        reason = inputs.optional_text(reason, "reason", MAX_NOTES, multiline=True)
        if not reason:
            raise InvalidInput(N_("withdrawing a release set needs a reason"))
        for item in release.items:
            if item.version.state == VersionState.RELEASED and not self._in_other_release(item):
                transition(
                    self.session,
                    item.version,
                    Event.WITHDRAW,
                    actor,
                    reason=reason,
                    details={"release_id": release.id},
                )
        release.state = ReleaseState.WITHDRAWN
        release.withdrawn_reason = reason
        release.withdrawn_at = utcnow()
        self._audit(actor, release, "release_withdrawn", to_state="withdrawn", reason=reason)
        self.session.commit()

    # ---- county side ----------------------------------------------------------------

    def for_county(self, county_id: int) -> list[ReleaseSet]:
        """Published (and withdrawn, for the notice) sets aimed at a county, newest first."""
        targeted = select(ReleaseTarget.release_id).where(ReleaseTarget.county_id == county_id)
        return list(
            self.session.scalars(
                select(ReleaseSet)
                .where(
                    ReleaseSet.state != ReleaseState.DRAFT,
                    or_(ReleaseSet.all_counties, ReleaseSet.id.in_(targeted)),
                )
                .order_by(ReleaseSet.published_at.desc())
            )
        )

    def visible_to(self, release: ReleaseSet, user: User) -> bool:
        """Say whether ``user`` may see ``release`` (county users: only their county's)."""
        if user.has_role(Role.PUBLISHER, Role.ADMIN):
            return True
        if not user.has_role(Role.COUNTY) or user.county_id is None:
            return False
        return release.state != ReleaseState.DRAFT and (
            release.all_counties or any(t.county_id == user.county_id for t in release.targets)
        )

    def package_for_download(self, package_id: int, user: User) -> ReleasePackage:
        """Return a ready package ``user`` may download; log and refuse anything else."""
        package = self.session.get(ReleasePackage, package_id)
        if package is None or not self.visible_to(package.release, user):
            self._audit(user, None, "download_refused", package_id=package_id)
            self.session.commit()
            raise NotFound(f"package {package_id} does not exist")
        if package.release.state == ReleaseState.WITHDRAWN:
            self._audit(user, package.release, "download_refused", package_id=package_id)
            self.session.commit()
            raise NotAllowed(
                f"release set {package.release.name} was withdrawn: "
                f"{package.release.withdrawn_reason}"
            )
        if package.state != PackageState.READY or not package.storage_key:
            raise Conflict(f"package {package.kind.value} of {package.release.name} is not ready")
        return package

    def record_download(
        self, package: ReleasePackage, user: User, *, start: int, sent: int, completed: bool
    ) -> Download:
        """Log what a download transferred."""
        row = Download(
            package_id=package.id,
            county_id=user.county_id,
            user_id=user.id,
            range_start=start,
            bytes_sent=sent,
            completed=completed,
        )
        self.session.add(row)
        self.session.commit()
        return row

    def confirm_receipt(self, release: ReleaseSet, user: User) -> Receipt:
        """Record that the user's county received the set (idempotent)."""
        if not user.has_role(Role.COUNTY) or not self.visible_to(release, user):
            raise NotFound(f"release set {release.id} does not exist")
        if release.state != ReleaseState.PUBLISHED:
            raise NotAllowed(f"release set {release.name} is {release.state.value}")
        receipt = self.session.scalar(
            select(Receipt).where(
                Receipt.release_id == release.id, Receipt.county_id == user.county_id
            )
        )
        if receipt is not None:
            return receipt
        receipt = Receipt(release_id=release.id, county_id=user.county_id, user_id=user.id)
        self.session.add(receipt)
        self._audit(user, release, "receipt_confirmed")
        try:
            self.session.commit()
        except IntegrityError:  # a double click from two tabs
            self.session.rollback()
            return self.confirm_receipt(release, user)
        return receipt

    def report_screening(
        self, release: ReleaseSet, user: User, *, screened_on: date, place: str, viewers: int
    ) -> Screening:
        """Record a screening a county held of a release set."""
        if not user.has_role(Role.COUNTY) or not self.visible_to(release, user):
            raise NotFound(f"release set {release.id} does not exist")
        place = inputs.optional_text(place, "place", 200)
        if not place:
            raise InvalidInput(N_("name the township or place (at most 200 characters)"))
        if viewers < 0 or viewers > 1_000_000:
            raise InvalidInput("the number of viewers must be between 0 and 1,000,000")
        if screened_on > date.today() + timedelta(days=1):
            raise InvalidInput("a screening cannot be reported before it happens")
        row = Screening(
            release_id=release.id,
            county_id=user.county_id,
            user_id=user.id,
            screened_on=screened_on,
            place=place,
            viewers=viewers,
        )
        self.session.add(row)
        self.session.commit()
        return row

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
                .where(Screening.release_id == release.id)
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
        for release in self.for_county(county.id):
            row = next(c for c in self.coverage(release) if c.county.id == county.id)
            history.append((release, row))
        return history

    def update_county_profile(
        self, county: County, *, villages: int, playback_points: int, actor: User
    ) -> None:
        """Set a county's villages and playback points (the copies-needed figure uses them)."""
        _require(actor, PUBLISHERS, "edit county profiles")
        if not (0 <= villages <= 100_000 and 0 <= playback_points <= 100_000):
            raise InvalidInput("villages and playback points must be between 0 and 100,000")
        before = {"villages": county.villages, "playback_points": county.playback_points}
        county.villages, county.playback_points = villages, playback_points
        self.session.add(
            AuditEvent(
                actor_id=actor.id,
                action="county_profile_changed",
                object_type="county",
                object_id=county.id,
                details={
                    "before": before,
                    "villages": villages,
                    "playback_points": playback_points,
                },
            )
        )
        self.session.commit()

    # ---- helpers ----------------------------------------------------------------------

    def _require_draft(self, release: ReleaseSet) -> None:
        if release.state != ReleaseState.DRAFT:
            raise NotAllowed(
                f"release set {release.name} is {release.state.value}; "
                "a published set cannot be changed"
            )

    def _in_other_release(self, item: ReleaseItem) -> bool:
        return bool(
            self.session.scalar(
                select(func.count())
                .select_from(ReleaseItem)
                .join(ReleaseSet)
                .where(
                    ReleaseItem.version_id == item.version_id,
                    ReleaseItem.id != item.id,
                    ReleaseSet.state == ReleaseState.PUBLISHED,
                )
            )
        )

    def _audit(
        self,
        actor: User | None,
        release: ReleaseSet | None,
        action: str,
        *,
        to_state: str | None = None,
        reason: str | None = None,
        **details: object,
    ) -> None:
        self.session.add(
            AuditEvent(
                actor_id=actor.id if actor else None,
                action=action,
                object_type="release_set",
                object_id=release.id if release else None,
                to_state=to_state,
                reason=reason,
                details=details,
            )
        )


def _require(actor: User, roles: tuple[Role, ...], what: str) -> None:
    if not actor.has_role(*roles):
        raise NotAllowed(f"only publishers may {what}")
