"""The network as data: townships, organisations, playback points, township accounts.

County staff maintain their own county (admins every county). A row that plans,
screenings, copies or accounts refer to is deactivated, never deleted. The build-out rate
(建点率) comes from the rows (:mod:`mam.services.buildout`). Nothing here commits: the
caller (view, CLI command) does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from mam import inputs
from mam.errors import Conflict, InvalidInput
from mam.i18n import N_
from mam.models import Role, User, UserRole
from mam.models.learning import Learner
from mam.models.network import (
    CopyMovement,
    FilmCopy,
    Organisation,
    Plan,
    PlanEntry,
    PlaybackPoint,
    PointKind,
    Township,
)
from mam.models.release import Screening
from mam.services import assessment_rollup
from mam.services.network_scope import NetworkScope, audit
from mam.services.users import USERNAME, check_strength, hash_password

PHONE = re.compile(r"^[0-9+\-() ]{0,32}$")


def clean_phone(value: object) -> str:
    """Return a phone number (digits, spaces, + - and brackets), or refuse it."""
    text = inputs.optional_text(value, "phone", 32)
    if not PHONE.match(text):
        raise InvalidInput(
            N_("A phone number may hold only digits, spaces, +, - and brackets."),
            field="phone",
        )
    return text


@dataclass(frozen=True)
class PointData:
    """What a person types about a playback point."""

    name: str
    kind: PointKind
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    organisation_id: int | None = None

    @classmethod
    def parse(cls, form: dict[str, object]) -> PointData:
        """Check the fields of a form or a spreadsheet row."""
        return cls(
            name=inputs.clean_text(form.get("name"), "name", 200),
            kind=inputs.parse_choice(form.get("kind"), "kind", PointKind),
            address=inputs.optional_text(form.get("address"), "address", 300),
            contact_name=inputs.optional_text(form.get("contact_name"), "contact", 100),
            contact_phone=clean_phone(form.get("contact_phone")),
            organisation_id=inputs.lenient_id(form.get("organisation_id")),
        )


class NetworkService:
    """Maintain a county's townships, organisations and points."""

    def __init__(self, session: Session, actor: User) -> None:
        self.session = session
        self.actor = actor
        self.scope = NetworkScope(session, actor)

    # -- townships -------------------------------------------------------------------------

    def townships(self, county_id: int) -> list[Township]:
        """Return a county's townships (active first, then by name)."""
        self.scope.require_county(county_id, manage=False)
        return list(
            self.session.scalars(
                select(Township)
                .where(Township.county_id == county_id)
                .order_by(Township.active.desc(), Township.name)
            )
        )

    def add_township(
        self, county_id: int, name: str, *, contact_name: str = "", contact_phone: str = ""
    ) -> Township:
        """Add a township station to a county."""
        self.scope.require_county(county_id)
        name = inputs.clean_text(name, "name", 100)
        self._unique(Township, Township.county_id == county_id, Township.name == name)
        row = Township(
            county_id=county_id,
            name=name,
            contact_name=inputs.optional_text(contact_name, "contact", 100),
            contact_phone=clean_phone(contact_phone),
        )
        self.session.add(row)
        self.session.flush()
        audit(self.session, self.actor, "township_created", "township", row.id, name=name)
        return row

    def update_township(
        self, township: Township, *, name: str, contact_name: str, contact_phone: str
    ) -> None:
        """Rename a township or change its contact."""
        self.scope.township(township.id, manage=True)
        name = inputs.clean_text(name, "name", 100)
        if name != township.name:
            self._unique(Township, Township.county_id == township.county_id, Township.name == name)
        township.name = name
        township.contact_name = inputs.optional_text(contact_name, "contact", 100)
        township.contact_phone = clean_phone(contact_phone)
        audit(self.session, self.actor, "township_updated", "township", township.id, name=name)

    def set_township_active(self, township: Township, active: bool) -> None:
        """Deactivate (or reactivate) a township; its history stays."""
        self.scope.township(township.id, manage=True)
        township.active = active
        action = "township_activated" if active else "township_deactivated"
        audit(self.session, self.actor, action, "township", township.id)

    def delete_township(self, township: Township) -> None:
        """Delete a township nothing refers to; otherwise say to deactivate it."""
        self.scope.township(township.id, manage=True)
        tid = township.id
        used = (
            exists().where(PlaybackPoint.township_id == tid),
            exists().where(Organisation.township_id == tid),
            exists().where(Plan.township_id == tid),
            exists().where(FilmCopy.township_id == tid),
            exists().where(User.township_id == tid),
            exists().where(Screening.township_id == tid),
        )
        if self.session.scalar(select(or_(*used))):
            raise Conflict(N_("This township is in use; deactivate it instead of deleting it."))
        audit(self.session, self.actor, "township_deleted", "township", tid, name=township.name)
        self.session.delete(township)

    # -- organisations ---------------------------------------------------------------------

    def organisations(self, township: Township) -> list[Organisation]:
        """Return the organisations of a township that should have a point."""
        self.scope.township(township.id)
        return list(
            self.session.scalars(
                select(Organisation)
                .where(Organisation.township_id == township.id)
                .order_by(Organisation.active.desc(), Organisation.kind, Organisation.name)
            )
        )

    def add_organisation(self, township: Township, name: str, kind: str) -> Organisation:
        """Record an organisation that should have a playback point."""
        self.scope.township(township.id, manage=True)
        name = inputs.clean_text(name, "name", 200)
        self._unique(
            Organisation, Organisation.township_id == township.id, Organisation.name == name
        )
        row = Organisation(
            township_id=township.id, name=name, kind=inputs.parse_choice(kind, "kind", PointKind)
        )
        self.session.add(row)
        self.session.flush()
        assessment_rollup.township_network(self.session, township.id)
        audit(self.session, self.actor, "organisation_created", "organisation", row.id, name=name)
        return row

    def set_organisation_active(self, organisation: Organisation, active: bool) -> None:
        """Take an organisation out of the build-out count (dissolved, merged) or back in."""
        self.scope.township(organisation.township_id, manage=True)
        organisation.active = active
        assessment_rollup.township_network(self.session, organisation.township_id)
        action = "organisation_activated" if active else "organisation_deactivated"
        audit(self.session, self.actor, action, "organisation", organisation.id)

    # -- points ----------------------------------------------------------------------------

    def points(self, township: Township, *, active_only: bool = False) -> list[PlaybackPoint]:
        """Return a township's playback points (active first, then by name)."""
        self.scope.township(township.id)
        query = select(PlaybackPoint).where(PlaybackPoint.township_id == township.id)
        if active_only:
            query = query.where(PlaybackPoint.active)
        return list(
            self.session.scalars(query.order_by(PlaybackPoint.active.desc(), PlaybackPoint.name))
        )

    def add_point(self, township: Township, data: PointData) -> PlaybackPoint:
        """Add a playback point to a township."""
        self.scope.township(township.id, manage=True)
        self._unique(
            PlaybackPoint, PlaybackPoint.township_id == township.id, PlaybackPoint.name == data.name
        )
        row = PlaybackPoint(township_id=township.id, name=data.name)
        self._fill_point(row, data)
        self.session.add(row)
        self.session.flush()
        assessment_rollup.township_network(self.session, township.id)
        audit(self.session, self.actor, "point_created", "playback_point", row.id, name=row.name)
        return row

    def update_point(self, point: PlaybackPoint, data: PointData) -> None:
        """Change a point's name, kind, address or contact."""
        self.scope.point(point.id, manage=True)
        if data.name != point.name:
            self._unique(
                PlaybackPoint,
                PlaybackPoint.township_id == point.township_id,
                PlaybackPoint.name == data.name,
            )
        point.name = data.name
        self._fill_point(point, data)
        assessment_rollup.township_network(self.session, point.township_id)  # its organisation
        audit(self.session, self.actor, "point_updated", "playback_point", point.id)

    def set_point_active(self, point: PlaybackPoint, active: bool) -> None:
        """Deactivate (or reactivate) a point; its plans and screenings stay."""
        self.scope.point(point.id, manage=True)
        point.active = active
        assessment_rollup.township_network(self.session, point.township_id)
        action = "point_activated" if active else "point_deactivated"
        audit(self.session, self.actor, action, "playback_point", point.id)

    def delete_point(self, point: PlaybackPoint) -> None:
        """Delete a point nothing refers to; otherwise say to deactivate it."""
        self.scope.point(point.id, manage=True)
        pid = point.id
        used = (
            exists().where(PlanEntry.point_id == pid),
            exists().where(Screening.point_id == pid),
            exists().where(FilmCopy.holder_point_id == pid),
            exists().where(or_(CopyMovement.from_point_id == pid, CopyMovement.to_point_id == pid)),
            exists().where(Learner.point_id == pid),  # learners belong to it
        )
        if self.session.scalar(select(or_(*used))):
            raise Conflict(
                N_("This playback point is in use; deactivate it instead of deleting it.")
            )
        audit(self.session, self.actor, "point_deleted", "playback_point", pid, name=point.name)
        township_id = point.township_id
        self.session.delete(point)
        assessment_rollup.township_network(self.session, township_id)

    def _fill_point(self, row: PlaybackPoint, data: PointData) -> None:
        if data.organisation_id is not None:
            org = self.session.get(Organisation, data.organisation_id)
            if org is None or org.township_id != row.township_id:
                raise InvalidInput(
                    N_("Choose an organisation of the same township."), field="organisation"
                )
        row.kind = data.kind
        row.address = data.address
        row.contact_name = data.contact_name
        row.contact_phone = data.contact_phone
        row.organisation_id = data.organisation_id

    # -- township accounts -----------------------------------------------------------------

    def township_accounts(self, township: Township) -> list[User]:
        """Return the accounts of a township station."""
        self.scope.township(township.id, manage=True)
        return list(
            self.session.scalars(
                select(User).where(User.township_id == township.id).order_by(User.username)
            )
        )

    def add_township_account(
        self, township: Township, *, username: str, password: str, display_name: str = ""
    ) -> User:
        """Create a ``township`` account scoped to ``township`` (county staff or admin)."""
        self.scope.township(township.id, manage=True)
        username = inputs.clean_text(username, "username", 64)
        if not USERNAME.match(username):
            raise InvalidInput(
                N_("A user name has 2-64 letters, digits, '.', '_' or '-'."), field="username"
            )
        if self.session.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict(
                N_("The user name %(name)s is taken."), params={"name": username}, field="username"
            )
        display = inputs.optional_text(display_name, "display_name", 100) or username
        user = User(
            username=username,
            display_name=display,
            password_hash="",
            county_id=township.county_id,
            township_id=township.id,
            role_rows=[UserRole(role=Role.TOWNSHIP)],
        )
        check_strength(password, user)
        user.password_hash = hash_password(password)
        user.must_change_password = True  # the county hands it over; the township picks its own
        self.session.add(user)
        self.session.flush()
        audit(
            self.session,
            self.actor,
            "user_created",
            "user",
            user.id,
            roles=[Role.TOWNSHIP.value],
            township_id=township.id,
        )
        return user

    def _unique(
        self,
        model: type[Township] | type[Organisation] | type[PlaybackPoint],
        *where: ColumnElement[bool],
    ) -> None:
        if self.session.scalar(select(model.id).where(*where)) is not None:
            raise Conflict(N_("That name is already used here."), field="name")
