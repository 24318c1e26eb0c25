"""Release sets for county centres: assemble, publish, withdraw, and what counties did.

The service is one class in three parts: publishing (here), the county side
(:mod:`mam.services.county_distribution`) and coverage figures (:mod:`mam.services.coverage`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select

from mam import inputs, outbox
from mam.audit import AuditAction
from mam.errors import Conflict, InvalidInput, NotAllowed, NotFound
from mam.i18n import N_, Label
from mam.machines import PACKAGE, RELEASE, PackageEvent, ReleaseEvent
from mam.messages import catalogue
from mam.messages import licence as licence_messages
from mam.messages import release as release_messages
from mam.messages.release import KIND_NAMES
from mam.models import County, User, Version, VersionState, utcnow
from mam.models.release import (
    PackageKind,
    PackageState,
    ReleaseItem,
    ReleasePackage,
    ReleaseSet,
    ReleaseState,
    ReleaseTarget,
)
from mam.services.branding import tv_audiences
from mam.services.coverage import (
    OVERDUE_AFTER,
    VILLAGES_PER_SET,
    CountyCoverage,
    ReleaseSummary,
    copies_needed,
)
from mam.services.ladder import require_distributable
from mam.services.licences import LicenceService
from mam.services.release_base import PUBLISHERS, ReleaseBase, require_role
from mam.workflow import Event, transition

__all__ = [
    "OVERDUE_AFTER",
    "PUBLISHERS",
    "VILLAGES_PER_SET",
    "CountyCoverage",
    "ReleaseService",
    "ReleaseSummary",
    "copies_needed",
]
MAX_NAME = 200
MAX_NOTES = 5000


class ReleaseService(ReleaseBase):
    """Release sets, the publisher's side: drafts, items, targets, publishing, withdrawal.

    What a county does with a set is :class:`CountyDistribution`; the figures on it are
    :class:`CoverageReports`.
    """

    # ---- publisher side ------------------------------------------------------------

    def create(
        self, name: str, actor: User, *, notes: str = "", publish_date: date | None = None
    ) -> ReleaseSet:
        """Start a draft release set, e.g. 2026年第12期."""
        require_role(actor, PUBLISHERS, "create release sets")
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
        self._audit(actor, release, AuditAction.RELEASE_CREATED)
        self.session.flush()
        return release

    def add_version(self, release: ReleaseSet, version_id: int, actor: User) -> ReleaseItem:
        """Pin an approved version of an episode into a draft set (replacing another cut)."""
        require_role(actor, PUBLISHERS, "edit release sets")
        self._require_draft(release)
        version = self.session.get(Version, version_id)
        if version is None:
            raise NotFound(catalogue.VERSION_MISSING, params={"id": version_id})
        if version.state != VersionState.APPROVED:
            raise NotAllowed(
                release_messages.ONLY_APPROVED,
                params={"number": version.number, "title": version.episode.title},
            )
        LicenceService(self.session).require_release(release, episodes=[version.episode])
        require_distributable(self.session, version)
        item = next((i for i in release.items if i.episode_id == version.episode_id), None)
        if item is None:
            item = ReleaseItem(episode_id=version.episode_id, position=len(release.items) + 1)
            release.items.append(item)
        item.version_id = version.id
        self.session.flush()
        self._audit(actor, release, AuditAction.RELEASE_ITEM_ADDED, version_id=version.id)
        self.session.flush()
        return item

    def remove_item(self, release: ReleaseSet, item_id: int, actor: User) -> None:
        """Take an episode out of a draft set."""
        require_role(actor, PUBLISHERS, "edit release sets")
        self._require_draft(release)
        item = next((i for i in release.items if i.id == item_id), None)
        if item is None:
            raise NotFound(
                release_messages.ITEM_MISSING, params={"item": item_id, "name": release.name}
            )
        release.items.remove(item)
        self._audit(
            actor, release, AuditAction.RELEASE_ITEM_REMOVED, version_id=item.version_id
        )
        self.session.flush()

    def set_targets(
        self, release: ReleaseSet, county_ids: Iterable[int] | None, actor: User
    ) -> None:
        """Target every county (``None``) or the given ones."""
        require_role(actor, PUBLISHERS, "edit release sets")
        self._require_draft(release)
        release.all_counties = county_ids is None
        wanted = set() if county_ids is None else set(county_ids)
        known = set(self.session.scalars(select(County.id).where(County.id.in_(wanted))))
        if wanted - known:
            raise NotFound(
                release_messages.COUNTIES_UNKNOWN,
                params={"ids": ", ".join(str(i) for i in sorted(wanted - known))},
            )
        LicenceService(self.session).require_release(
            release, county_ids=None if county_ids is None else wanted
        )
        for target in [t for t in release.targets if t.county_id not in wanted]:
            release.targets.remove(target)
        self.session.flush()
        have = {t.county_id for t in release.targets}
        release.targets.extend(ReleaseTarget(county_id=c) for c in sorted(wanted - have))
        self._audit(
            actor,
            release,
            AuditAction.RELEASE_TARGETS_SET,
            counties="all" if county_ids is None else sorted(wanted),
        )
        self.session.flush()

    def set_uses(self, release: ReleaseSet, uses: Iterable[str], actor: User) -> None:
        """Choose what a draft set is for (package kinds: tv, playback, web); its episodes'
        licences must allow every one."""
        require_role(actor, PUBLISHERS, "edit release sets")
        self._require_draft(release)
        chosen: list[str] = [str(k.value) for k in PackageKind if k.value in set(uses)]
        if not chosen:
            raise InvalidInput(licence_messages.NO_USES, field="uses")
        LicenceService(self.session).require_release(release, uses=chosen)
        release.uses = chosen
        self._audit(actor, release, AuditAction.RELEASE_USES_SET, uses=chosen)
        self.session.flush()

    def publish(self, release: ReleaseSet, actor: User) -> list[ReleasePackage]:
        """Publish a draft: every pinned version must still be approved; queue packages."""
        require_role(actor, PUBLISHERS, "publish release sets")
        self._require_draft(release)
        if not release.items:
            raise InvalidInput(release_messages.NO_EPISODES)
        if not release.all_counties and not release.targets:
            raise InvalidInput(release_messages.NO_TARGETS)
        for item in release.items:
            version = item.version
            newer = self.session.scalar(
                select(func.max(Version.number)).where(Version.episode_id == version.episode_id)
            )
            if version.state != VersionState.APPROVED or (newer or 0) > version.number:
                raise Conflict(
                    release_messages.NO_LONGER_APPROVED,
                    params={"title": version.episode.title, "number": version.number},
                )
            require_distributable(self.session, version)
        LicenceService(self.session).require_release(release)  # the final gate, today
        for item in release.items:
            transition(
                self.session, item.version, Event.RELEASE, actor, details={"release_id": release.id}
            )
        RELEASE.fire(self.session, release, ReleaseEvent.PUBLISH, actor)
        release.published_at = utcnow()
        existing = {(p.kind, p.county_id) for p in release.packages}
        for kind in PackageKind:
            if kind.value not in release.uses:
                continue
            audiences = tv_audiences(self.session, release) if kind == PackageKind.TV else [None]
            release.packages.extend(
                ReleasePackage(kind=kind, county=county)
                for county in audiences
                if (kind, county.id if county else None) not in existing
            )
        self.session.flush()
        for package in release.packages:
            if package.state == PackageState.QUEUED:
                package.heartbeat_at = utcnow()
                outbox.enqueue_package(self.session, package.id)  # built after the commit
        return list(release.packages)

    def rebuild_package(self, package_id: int, actor: User) -> ReleasePackage:
        """Queue a failed (or stuck) package build again; it is sent after the commit."""
        require_role(actor, PUBLISHERS, "rebuild packages")
        package = self.session.get(ReleasePackage, package_id)
        if package is None:
            raise NotFound(release_messages.PACKAGE_MISSING, params={"id": package_id})
        if package.release.state != ReleaseState.PUBLISHED:
            raise NotAllowed(
                release_messages.NOT_PUBLISHED, params={"name": package.release.name}
            )
        if package.state == PackageState.READY:
            raise Conflict(
                release_messages.PACKAGE_READY,
                params={"kind": Label(KIND_NAMES[package.kind]), "name": package.release.name},
            )
        PACKAGE.fire(
            self.session, package, PackageEvent.REBUILD, actor,
            details={"release_id": package.release_id, "kind": package.kind.value},
        )  # fmt: skip
        package.progress, package.last_error = 0.0, None
        package.heartbeat_at, package.lease_expires_at = utcnow(), None
        outbox.enqueue_package(self.session, package.id)
        return package

    def withdraw(self, release: ReleaseSet, reason: str, actor: User | None) -> None:
        """Withdraw a published set: downloads stop and counties see the reason. ``actor``
        None is the system (the licence sweep withdraws what a licence no longer covers)."""
        if actor is not None:
            require_role(actor, PUBLISHERS, "withdraw release sets")
        if release.state != ReleaseState.PUBLISHED:
            raise NotAllowed(release_messages.NOT_PUBLISHED, params={"name": release.name})
        reason = inputs.optional_text(reason, "reason", MAX_NOTES, multiline=True)
        if not reason:
            raise InvalidInput(N_("withdrawing a release set needs a reason"))
        RELEASE.check(release, ReleaseEvent.WITHDRAW, actor, reason=reason)
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
        RELEASE.fire(self.session, release, ReleaseEvent.WITHDRAW, actor, reason=reason)
        release.withdrawn_reason = reason
        release.withdrawn_at = utcnow()
        self.session.flush()

    # ---- helpers ----------------------------------------------------------------------

    def _require_draft(self, release: ReleaseSet) -> None:
        if release.state != ReleaseState.DRAFT:
            raise NotAllowed(release_messages.PUBLISHED_IMMUTABLE, params={"name": release.name})

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
