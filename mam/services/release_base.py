"""What every part of the release service shares: the session, lookups, the audit trail."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.audit import AuditAction, ObjectType, record
from mam.errors import NotAllowed, NotFound
from mam.messages import release as release_messages
from mam.models import County, Role, User
from mam.models.release import ReleaseSet

PUBLISHERS = (Role.PUBLISHER, Role.ADMIN)


class ReleaseBase:
    """The session and the helpers the publishing, county and coverage parts share."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, release_id: int) -> ReleaseSet:
        """Return a release set or raise NotFound."""
        release = self.session.get(ReleaseSet, release_id)
        if release is None:
            raise NotFound(release_messages.SET_MISSING, params={"id": release_id})
        return release

    def target_counties(self, release: ReleaseSet) -> list[County]:
        """Return the counties a set is sent to."""
        if release.all_counties:
            return list(self.session.scalars(select(County).order_by(County.code)))
        return sorted((t.county for t in release.targets), key=lambda c: c.code)

    def _audit(
        self,
        actor: User | None,
        release: ReleaseSet | None,
        action: AuditAction,
        *,
        reason: str | None = None,
        **details: object,
    ) -> None:
        record(
            self.session,
            action,
            actor,
            ObjectType.RELEASE_SET,
            release.id if release else None,
            reason=reason,
            details=details,
        )


def require_role(actor: User, roles: tuple[Role, ...], what: str) -> None:
    """Refuse ``actor`` unless they hold one of ``roles`` (``what`` names the act)."""
    if not actor.has_role(*roles):
        raise NotAllowed(release_messages.PUBLISHERS_ONLY, act=what)
