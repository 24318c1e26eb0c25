"""Who may see and change which part of the playback network.

- admin: every county;
- county staff (``county``): their own county — its townships, points, organisations and
  focus, and every township's plans, screenings and copies (acting for the township);
- a township account (``township``): its own township's plans, screenings and copies, and
  read access to its county's focus and its own points.

Anything outside the actor's scope is reported as not found, so ids of other counties are
not confirmed to exist. Every change is written to the audit log by :func:`audit`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mam.audit import AuditAction, ObjectType, record
from mam.errors import NotFound
from mam.i18n import N_, Label
from mam.models import Role, User
from mam.models.network import PlaybackPoint, Township

NETWORK_ROLES = (Role.ADMIN, Role.COUNTY, Role.TOWNSHIP)


def _missing(what: str, ident: int | None) -> NotFound:
    return NotFound(
        N_("%(what)s %(id)s does not exist."), params={"what": Label(what), "id": ident}
    )


class NetworkScope:
    """The actor's reach in the network; methods raise NotFound outside it."""

    def __init__(self, session: Session, actor: User) -> None:
        self.session = session
        self.actor = actor

    @property
    def is_admin(self) -> bool:
        return self.actor.has_role(Role.ADMIN)

    def county_ids(self) -> set[int] | None:
        """Return the counties the actor works in (None: every county)."""
        if self.is_admin:
            return None
        if self.actor.county_id is not None and self.actor.has_role(Role.COUNTY, Role.TOWNSHIP):
            return {self.actor.county_id}
        return set()

    def may_manage_county(self, county_id: int) -> bool:
        """Say whether the actor maintains this county's townships, points and focus."""
        return self.is_admin or (
            self.actor.has_role(Role.COUNTY) and self.actor.county_id == county_id
        )

    def may_read_county(self, county_id: int) -> bool:
        ids = self.county_ids()
        return ids is None or county_id in ids

    def may_work_for(self, township: Township) -> bool:
        """Say whether the actor plans and reports for ``township``."""
        if self.may_manage_county(township.county_id):
            return True
        return self.actor.has_role(Role.TOWNSHIP) and self.actor.township_id == township.id

    def require_county(self, county_id: int, *, manage: bool = True) -> None:
        allowed = self.may_manage_county if manage else self.may_read_county
        if not allowed(county_id):
            raise _missing(N_("County"), county_id)

    def township(self, township_id: int, *, manage: bool = False) -> Township:
        """Return a township the actor works for (``manage``: maintains, i.e. county staff)."""
        row = self.session.get(Township, township_id)
        if row is None:
            raise _missing(N_("Township"), township_id)
        ok = self.may_manage_county(row.county_id) if manage else self.may_work_for(row)
        if not ok:
            raise _missing(N_("Township"), township_id)
        return row

    def point(self, point_id: int, *, manage: bool = False) -> PlaybackPoint:
        """Return a playback point of a township the actor works for."""
        row = self.session.get(PlaybackPoint, point_id)
        if row is None:
            raise _missing(N_("Playback point"), point_id)
        self.township(row.township_id, manage=manage)
        return row

    def own_township_id(self) -> int | None:
        """Return the township of a township account (None for county staff and admins)."""
        if self.actor.has_role(Role.COUNTY, Role.ADMIN):
            return None
        return self.actor.township_id


def audit(
    session: Session,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: int | None,
    *,
    reason: str | None = None,
    to_state: str | None = None,
    **details: object,
) -> None:
    """Append an audit row for a network change (written with the caller's commit); the
    action and object type must be members of the one vocabulary in mam.audit."""
    record(
        session, AuditAction(action), actor, ObjectType(object_type), object_id,
        reason=reason, to_state=to_state, details=dict(details),
    )  # fmt: skip
