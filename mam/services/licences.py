"""Licences (版权许可): what an episode may be used for, where and when; enforced here.

An episode's licence is its own, else its programme's (inherited). An episode without one
is unrestricted when it is self-produced (自制); imported (引进) and general teaching
material (省市通用教材) without a licence cannot be released or streamed until one is
entered. ``refusal`` is the one rule; release sets (publishing side), the learner portal
(``StudyService``) and the beat sweep (``mam.services.licence_sweep``) all ask it. Dates
are the library's calendar (China Standard Time); ``ends_on`` is the last licensed day.
The caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam import inputs
from mam.audit import AuditAction, ObjectType, record
from mam.errors import InvalidInput, NotAllowed, NotFound
from mam.i18n import Label
from mam.messages import Message
from mam.messages import licence as msg
from mam.models import County, Episode, Programme, SourceType, User
from mam.models.licence import EXPIRING_DAYS, LIBRARY_TZ, USES, Licence, LicenceCounty
from mam.models.release import ReleaseSet
from mam.services.edit_rights import require_edit
from mam.services.metadata import detail_of, parse_date

STATES = ("valid", "expiring", "expired", "pending", "none")
MAX_NOTES = 5000


def today() -> date:
    """Return the library's date (China Standard Time)."""
    return datetime.now(LIBRARY_TZ).date()


def licence_state(licence: Licence | None, day: date) -> str:
    """Return ``none``, ``pending`` (not started), ``expired``, ``expiring`` or ``valid``."""
    if licence is None:
        return "none"
    if licence.starts_on is not None and day < licence.starts_on:
        return "pending"
    if licence.ends_on is not None:
        if licence.ends_on < day:
            return "expired"
        if licence.ends_on <= day + timedelta(days=EXPIRING_DAYS):
            return "expiring"
    return "valid"


def _said(message: Message, **params: object) -> dict[str, Any]:
    return {"template": message.template, "code": message.code, "params": params}


def refusal(
    episode: Episode,
    licence: Licence | None,
    uses: Iterable[str],
    counties: Mapping[int, str] | None,
    day: date,
) -> dict[str, Any] | None:
    """Return why ``episode`` may not be used for ``uses`` in ``counties`` on ``day``, or None.

    ``counties`` maps the county ids to their names; None means every county. The answer is
    a nested message (``{"template", "params"}``), rendered in the reader's language.
    """
    if licence is None:
        return None if episode.source_type == SourceType.SELF else _said(msg.NO_LICENCE)
    return _period_refusal(licence, day) or _scope_refusal(licence, uses, counties)


def _period_refusal(licence: Licence, day: date) -> dict[str, Any] | None:
    if licence.starts_on is not None and day < licence.starts_on:
        return _said(msg.NOT_STARTED, date=licence.starts_on.isoformat())
    if licence.ends_on is not None and licence.ends_on < day:
        return _said(msg.EXPIRED, date=licence.ends_on.isoformat())
    return None


def _scope_refusal(
    licence: Licence, uses: Iterable[str], counties: Mapping[int, str] | None
) -> dict[str, Any] | None:
    wanted = set(uses)
    for use in USES:
        if use in wanted and use not in licence.uses:
            return _said(msg.USE_EXCLUDED, use=Label(msg.USE_NAMES[use]))
    if licence.all_counties:
        return None
    if counties is None:
        return _said(msg.ALL_COUNTIES_EXCLUDED)
    outside = [name for cid, name in sorted(counties.items()) if cid not in licence.county_ids]
    return _said(msg.COUNTIES_EXCLUDED, counties="、".join(outside)) if outside else None


@dataclass(frozen=True)
class LicenceForm:
    """What the licence form (or the API) sends, uncleaned."""

    holder: object = ""
    contract_ref: object = ""
    starts_on: object = ""
    ends_on: object = ""
    uses: tuple[str, ...] = ()
    all_counties: bool = True
    county_ids: tuple[int, ...] = ()
    notes: object = ""


class LicenceService:
    """Read, save and enforce licences (the caller commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ---- reading -----------------------------------------------------------------------

    def own(self, episode: Episode) -> Licence | None:
        """Return the episode's own licence (not the programme's)."""
        return self.session.scalar(select(Licence).where(Licence.episode_id == episode.id))

    def of_programme(self, programme: Programme) -> Licence | None:
        """Return the programme's licence, inherited by its episodes without one."""
        return self.session.scalar(select(Licence).where(Licence.programme_id == programme.id))

    def for_episode(self, episode: Episode) -> Licence | None:
        """Return the licence that governs ``episode``: its own, else its programme's."""
        return self.own(episode) or self.of_programme(episode.programme)

    def state(self, episode: Episode, day: date | None = None) -> str:
        """Return the licence state of ``episode`` (see ``licence_state``)."""
        return licence_state(self.for_episode(episode), day or today())

    def governing(self, episodes: Iterable[Episode]) -> dict[int, Licence | None]:
        """Return the governing licence of each episode by id (two queries, for lists)."""
        found = list(episodes)
        own = {
            lic.episode_id: lic
            for lic in self.session.scalars(
                select(Licence).where(Licence.episode_id.in_([e.id for e in found]))
            )
        }
        programmes = {
            lic.programme_id: lic
            for lic in self.session.scalars(
                select(Licence).where(Licence.programme_id.in_({e.programme_id for e in found}))
            )
        }
        return {e.id: own.get(e.id) or programmes.get(e.programme_id) for e in found}

    def states(self, episodes: Iterable[Episode], day: date | None = None) -> dict[int, str]:
        """Return the licence state of each episode by id (two queries, for lists)."""
        day = day or today()
        return {i: licence_state(lic, day) for i, lic in self.governing(episodes).items()}

    def permits(
        self, episode: Episode, use: str, county_id: int | None, day: date | None = None
    ) -> bool:
        """Say whether ``episode`` may be used for ``use`` in county ``county_id`` today."""
        counties = None if county_id is None else {county_id: ""}
        return refusal(episode, self.for_episode(episode), (use,), counties, day or today()) is None

    def ending(self, day: date, days: int = EXPIRING_DAYS) -> list[Licence]:
        """Return the licences whose last day is at most ``days`` after ``day`` (and those
        ended already), soonest first."""
        return list(
            self.session.scalars(
                select(Licence)
                .where(Licence.ends_on.is_not(None), Licence.ends_on <= day + timedelta(days))
                .order_by(Licence.ends_on, Licence.id)
            )
        )

    # ---- release sets ------------------------------------------------------------------

    def require_release(
        self,
        release: ReleaseSet,
        *,
        episodes: Iterable[Episode] | None = None,
        uses: Iterable[str] | None = None,
        county_ids: Iterable[int] | None = (),
        day: date | None = None,
        ignore_missing: bool = False,
    ) -> None:
        """Refuse (NotAllowed, with the reason) unless every episode of the set (or the given
        ones) is licensed for the set's uses and counties. ``county_ids`` None: all counties;
        the default is the set's current targets. ``ignore_missing`` passes episodes that
        have no licence at all (the sweep: sets published before licences existed)."""
        if county_ids == ():
            county_ids = None if release.all_counties else [t.county_id for t in release.targets]
        counties: dict[int, str] | None = None
        if county_ids is not None:
            wanted = set(county_ids)
            counties = {
                c.id: c.name
                for c in self.session.scalars(select(County).where(County.id.in_(wanted)))
            }
        chosen = list(uses if uses is not None else release.uses)
        for episode in episodes if episodes is not None else [i.episode for i in release.items]:
            reason = refusal(episode, self.for_episode(episode), chosen, counties, day or today())
            if reason is None or (ignore_missing and reason["code"] == msg.NO_LICENCE.code):
                continue
            raise NotAllowed(msg.REFUSED, params={"title": episode.title, "reason": reason})

    # ---- editing -----------------------------------------------------------------------

    def save(
        self,
        actor: User,
        form: LicenceForm,
        *,
        episode: Episode | None = None,
        programme: Programme | None = None,
    ) -> Licence:
        """Create or replace the licence of ``episode`` or of ``programme``."""
        target = programme or (episode.programme if episode else None)
        if target is None:
            raise NotFound(msg.MISSING, params={"title": ""})
        require_edit(self.session, actor, target)
        holder = inputs.clean_text(form.holder, "holder", 200, required=False)
        if not holder:
            raise InvalidInput(msg.HOLDER_NEEDED, field="holder")
        contract_ref = inputs.optional_text(form.contract_ref, "contract_ref", 100)
        starts_on = parse_date(form.starts_on, "starts_on")
        ends_on = parse_date(form.ends_on, "ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            raise InvalidInput(
                msg.ENDS_BEFORE_START,
                params={"start": starts_on.isoformat(), "end": ends_on.isoformat()},
                field="ends_on",
            )
        uses = [u for u in USES if u in set(form.uses)]
        if not uses:
            raise InvalidInput(msg.NO_USES, field="uses")
        wanted = set(form.county_ids)
        known = set(self.session.scalars(select(County.id).where(County.id.in_(wanted))))
        if not form.all_counties and not known:
            raise InvalidInput(msg.NO_COUNTIES, field="counties")
        notes = inputs.optional_text(form.notes, "notes", MAX_NOTES, multiline=True)
        licence = self.of_programme(programme) if programme else self.own(episode)  # type: ignore[arg-type]
        if licence is None:
            licence = Licence(
                episode_id=None if programme else episode.id,  # type: ignore[union-attr]
                programme_id=programme.id if programme else None,
            )
            self.session.add(licence)
        licence.holder, licence.contract_ref, licence.notes = holder, contract_ref, notes
        licence.starts_on, licence.ends_on, licence.uses = starts_on, ends_on, uses
        licence.all_counties = form.all_counties
        licence.updated_by_id = actor.id
        territory = set() if form.all_counties else known
        for row in [t for t in licence.territory if t.county_id not in territory]:
            licence.territory.remove(row)
        have = {t.county_id for t in licence.territory}
        licence.territory.extend(LicenceCounty(county_id=c) for c in sorted(territory - have))
        if episode is not None and programme is None:  # the metadata form shows the same
            detail = detail_of(self.session, episode)
            detail.rights_holder, detail.rights_expiry = holder, ends_on
        self.session.flush()
        self._audit(
            actor, AuditAction.LICENCE_SAVED, episode=episode, programme=programme,
            holder=holder, contract_ref=contract_ref,
            starts_on=starts_on.isoformat() if starts_on else None,
            ends_on=ends_on.isoformat() if ends_on else None, uses=uses,
            counties="all" if form.all_counties else sorted(territory),
        )  # fmt: skip
        return licence

    def from_rights_fields(self, actor: User | None, episode: Episode) -> Licence | None:
        """Make the rights holder and expiry typed on the upload, metadata or import form
        (版权方, 版权到期) the holder and last day of the episode's own licence: created for
        every use and county when there is none, otherwise only those two change (what the
        licence page narrowed stays). The caller has checked the actor may change them
        (``metadata.apply_metadata``); nothing happens while no holder is given."""
        detail = detail_of(self.session, episode)
        holder = (detail.rights_holder or "").strip()
        if not holder:
            return None
        ends_on = detail.rights_expiry
        licence = self.own(episode)
        if licence is None:
            licence = Licence(
                episode_id=episode.id, uses=list(USES), all_counties=True, contract_ref="",
                notes="",
            )  # fmt: skip
            self.session.add(licence)
        elif licence.starts_on and ends_on and ends_on < licence.starts_on:
            raise InvalidInput(
                msg.ENDS_BEFORE_START,
                params={"start": licence.starts_on.isoformat(), "end": ends_on.isoformat()},
                field="rights_expiry",
            )
        if (licence.holder, licence.ends_on) == (holder, ends_on):
            return licence
        licence.holder, licence.ends_on = holder, ends_on
        licence.updated_by_id = actor.id if actor else None
        self.session.flush()
        self._audit(
            actor, AuditAction.LICENCE_SAVED, episode=episode, programme=None, holder=holder,
            contract_ref=licence.contract_ref,
            starts_on=licence.starts_on.isoformat() if licence.starts_on else None,
            ends_on=ends_on.isoformat() if ends_on else None, uses=list(licence.uses),
            counties="all" if licence.all_counties else sorted(licence.county_ids),
            entered_as="rights_fields",
        )  # fmt: skip
        return licence

    def remove(
        self, actor: User, *, episode: Episode | None = None, programme: Programme | None = None
    ) -> None:
        """Delete the licence of ``episode`` or ``programme`` (what it governs is then
        governed by the programme's licence, or by none)."""
        target = programme or (episode.programme if episode else None)
        if target is None:
            raise NotFound(msg.MISSING, params={"title": ""})
        require_edit(self.session, actor, target)
        licence = self.of_programme(programme) if programme else self.own(episode)  # type: ignore[arg-type]
        if licence is None:
            title = programme.name if programme else episode.title  # type: ignore[union-attr]
            raise NotFound(msg.MISSING, params={"title": title})
        self.session.delete(licence)
        if programme is None and episode is not None:  # nor on the metadata form
            detail = detail_of(self.session, episode)
            detail.rights_holder, detail.rights_expiry = "", None
        self.session.flush()
        self._audit(
            actor, AuditAction.LICENCE_REMOVED, episode=episode, programme=programme,
            holder=licence.holder,
        )  # fmt: skip

    def _audit(
        self,
        actor: User | None,
        action: AuditAction,
        *,
        episode: Episode | None,
        programme: Programme | None,
        **details: object,
    ) -> None:
        if programme is not None:
            record(self.session, action, actor, ObjectType.PROGRAMME, programme.id, details=details)
        elif episode is not None:
            record(self.session, action, actor, ObjectType.EPISODE, episode.id, details=details)
