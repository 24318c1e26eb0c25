"""The county side of release sets: what a county sees, downloads, confirms and reports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from mam import inputs
from mam.audit import AuditAction
from mam.errors import Conflict, InvalidInput, NotAllowed, NotFound
from mam.i18n import Label
from mam.messages import release as release_messages
from mam.messages.release import KIND_NAMES
from mam.models import Role, User
from mam.models.release import (
    Download,
    PackageState,
    Receipt,
    ReleasePackage,
    ReleaseSet,
    ReleaseState,
    ReleaseTarget,
    Screening,
)
from mam.services import assessment_rollup
from mam.services.downloads import DownloadLog
from mam.services.release_base import ReleaseBase
from mam.uow import checkpoint


def meant_for(packages: Iterable[ReleasePackage], county_id: int | None) -> list[ReleasePackage]:
    """Return the packages a county downloads: per kind, the one made for it (its TV
    package with its own logo), else the shared one."""
    packages = list(packages)
    own = {p.kind for p in packages if county_id is not None and p.county_id == county_id}
    return [
        p
        for p in packages
        if (p.county_id is not None and p.county_id == county_id)
        or (p.county_id is None and p.kind not in own)
    ]


class CountyDistribution(ReleaseBase):
    """Release sets as a county centre meets them."""

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

    def packages_for(self, release: ReleaseSet, user: User) -> list[ReleasePackage]:
        """Return the packages of ``release`` ``user`` may see: publishers every one, a
        county user those meant for the county (its own, else the shared one, per kind)."""
        if user.has_role(Role.PUBLISHER, Role.ADMIN):
            return list(release.packages)
        if not self.visible_to(release, user):
            return []
        return meant_for(release.packages, user.county_id)

    def package_for_download(self, package_id: int, user: User) -> ReleasePackage:
        """Return a ready package ``user`` may download; log and refuse anything else
        (another county's package is as missing as one that does not exist)."""
        package = self.session.get(ReleasePackage, package_id)
        if package is None or package not in self.packages_for(package.release, user):
            self._audit(user, None, AuditAction.DOWNLOAD_REFUSED, package_id=package_id)
            checkpoint(self.session, "the refusal is audited although the request fails")
            raise NotFound(release_messages.PACKAGE_MISSING, params={"id": package_id})
        if package.release.state == ReleaseState.WITHDRAWN:
            self._audit(user, package.release, AuditAction.DOWNLOAD_REFUSED, package_id=package_id)
            checkpoint(self.session, "the refusal is audited although the request fails")
            raise NotAllowed(
                release_messages.WITHDRAWN,
                params={
                    "name": package.release.name,
                    "reason": package.release.withdrawn_reason,
                },
            )
        if package.state != PackageState.READY or not package.storage_key:
            raise Conflict(
                release_messages.PACKAGE_NOT_READY,
                params={"kind": Label(KIND_NAMES[package.kind]), "name": package.release.name},
            )
        return package

    def record_download(
        self, package: ReleasePackage, user: User, *, start: int, sent: int
    ) -> Download:
        """Log what a download transferred (completed once the county has every byte)."""
        return DownloadLog(self.session).record(package, user, start=start, sent=sent)

    def confirm_receipt(self, release: ReleaseSet, user: User) -> Receipt:
        """Record that the user's county received the set (idempotent)."""
        if not user.has_role(Role.COUNTY) or not self.visible_to(release, user):
            raise NotFound(release_messages.SET_MISSING, params={"id": release.id})
        if release.state != ReleaseState.PUBLISHED:
            raise NotAllowed(
                release_messages.SET_NOT_OPEN,
                params={"name": release.name},
            )
        receipt = self.session.scalar(
            select(Receipt).where(
                Receipt.release_id == release.id, Receipt.county_id == user.county_id
            )
        )
        if receipt is not None:
            return receipt
        try:
            with self.session.begin_nested():  # a savepoint: only this insert is undone
                receipt = Receipt(release_id=release.id, county_id=user.county_id, user_id=user.id)
                self.session.add(receipt)
                self._audit(
                    user, release, AuditAction.RECEIPT_CONFIRMED, county_id=user.county_id,
                    packages=[p.id for p in self.packages_for(release, user)],
                )  # fmt: skip
        except IntegrityError:  # a double click from two tabs
            return self.confirm_receipt(release, user)
        return receipt

    def report_screening(
        self, release: ReleaseSet, user: User, *, screened_on: date, place: str, viewers: int
    ) -> Screening:
        """Record a screening a county held of a release set."""
        if not user.has_role(Role.COUNTY) or not self.visible_to(release, user):
            raise NotFound(release_messages.SET_MISSING, params={"id": release.id})
        place = inputs.optional_text(place, "place", 200)
        if not place:
            raise InvalidInput(
                release_messages.PLACE_REQUIRED, field="place"
            )
        if viewers < 0 or viewers > 1_000_000:
            raise InvalidInput(
                release_messages.VIEWERS_RANGE, field="viewers"
            )
        if screened_on > date.today() + timedelta(days=1):
            raise InvalidInput(
                release_messages.SCREENING_FUTURE, field="screened_on"
            )
        row = Screening(
            release_id=release.id,
            county_id=user.county_id,
            user_id=user.id,
            screened_on=screened_on,
            place=place,
            viewers=viewers,
        )
        self.session.add(row)
        self.session.flush()
        assessment_rollup.screening_after(self.session, row, None)
        self._audit(
            user, release, AuditAction.SCREENING_REPORTED, screening_id=row.id,
            county_id=user.county_id, screened_on=screened_on.isoformat(), place=place,
            viewers=viewers,
        )  # fmt: skip
        return row
