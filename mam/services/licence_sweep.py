"""The daily licence sweep (beat): expiry notices 30 days ahead and on the day, withdrawals.

For each licence whose last day (``ends_on``) is at most ``EXPIRING_DAYS`` away:

* while it still runs: one ``ahead`` notice to the publishers and to the county accounts
  that received the licensed episodes;
* from the day after its last day (the day it expires): every published release set that
  holds an episode it governs is withdrawn by the system (the reason, in Chinese, names the
  episode and the date; counties see it), and one ``expired`` notice is sent. Online
  learning stops by itself: the learner portal asks the licence on every request.

Then every published set is checked against the licences as they are now: a set holding an
episode whose licence was narrowed (a county or use taken out), removed, or is not in force
is withdrawn too, with the reason (within the hour of the change).

A LicenceNotice row per (licence, kind, end date) makes a second run send nothing twice;
renewing the licence (a new end date) arms the notices again. Mail goes after the commit
(``after_commit``), in each recipient's language. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from mam.audit import AuditAction, ObjectType, record
from mam.errors import NotAllowed
from mam.i18n import translator
from mam.messages import licence as msg
from mam.models import County, Episode, Role, User, UserRole
from mam.models.licence import Licence, LicenceNotice
from mam.models.release import ReleaseItem, ReleaseSet, ReleaseState, ReleaseTarget
from mam.services.licences import EXPIRING_DAYS, LicenceService
from mam.services.notify import Notice, Notifier, NullNotifier
from mam.services.releases import ReleaseService
from mam.uow import after_commit

REASON_LOCALE = "zh_CN"  # a withdrawal reason is stored as text; counties read Chinese


@dataclass
class SweepResult:
    """What one sweep did: notices sent (licence id, kind) and sets withdrawn (names)."""

    notices: list[tuple[int, str]] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)


class LicenceSweep:
    """One pass of the sweep on ``day`` (the caller commits)."""

    def __init__(self, session: Session, notifier: Notifier | None = None) -> None:
        self.session = session
        self.notifier = notifier or NullNotifier()

    def run(self, day: date) -> SweepResult:
        """Send due notices and withdraw what expired licences no longer cover."""
        result = SweepResult()
        due = self.session.scalars(
            select(Licence)
            .where(Licence.ends_on.is_not(None), Licence.ends_on <= day + timedelta(EXPIRING_DAYS))
            .order_by(Licence.id)
        )
        for licence in due:
            assert licence.ends_on is not None  # noqa: S101 - selected so
            episodes = self._governed(licence)
            if licence.ends_on >= day:
                if self._first(licence, "ahead"):
                    self._notify(licence, "ahead", episodes, [])
                    result.notices.append((licence.id, "ahead"))
                continue
            withdrawn = self._withdraw(licence, episodes)
            result.withdrawn.extend(withdrawn)
            if self._first(licence, "expired"):
                self._notify(licence, "expired", episodes, withdrawn)
                result.notices.append((licence.id, "expired"))
        result.withdrawn.extend(self._withdraw_uncovered(day))
        return result

    def _withdraw_uncovered(self, day: date) -> list[str]:
        """Withdraw published sets that hold an episode its licence no longer covers for
        the set's uses and counties (a licence narrowed, removed or not yet in force).

        A missing licence alone withdraws nothing: sets published before licences existed
        keep their imported films (their release pages show 无许可); they cannot be
        released again, nor streamed, until a licence is entered."""
        names = []
        translate = translator(REASON_LOCALE)
        licences = LicenceService(self.session)
        published = self.session.scalars(
            select(ReleaseSet).where(ReleaseSet.state == ReleaseState.PUBLISHED)
        )
        for release in list(published):
            try:
                licences.require_release(release, day=day, ignore_missing=True)
            except NotAllowed as refused:
                reason = msg.NO_LONGER_COVERED.render(refused.params, translate)
                ReleaseService(self.session).withdraw(release, reason, None)
                names.append(release.name)
        return names

    def _governed(self, licence: Licence) -> list[Episode]:
        """Return the episodes ``licence`` governs (a programme's: those without their own)."""
        if licence.episode_id is not None:
            return [licence.episode] if licence.episode else []
        own = select(Licence.episode_id).where(Licence.episode_id.is_not(None))
        return list(
            self.session.scalars(
                select(Episode)
                .where(Episode.programme_id == licence.programme_id, Episode.id.not_in(own))
                .order_by(Episode.id)
            )
        )

    def _published_sets(self, episodes: list[Episode]) -> list[ReleaseSet]:
        return list(
            self.session.scalars(
                select(ReleaseSet)
                .join(ReleaseItem, ReleaseItem.release_id == ReleaseSet.id)
                .where(
                    ReleaseSet.state == ReleaseState.PUBLISHED,
                    ReleaseItem.episode_id.in_([e.id for e in episodes]),
                )
                .distinct()
                .order_by(ReleaseSet.id)
            )
        )

    def _withdraw(self, licence: Licence, episodes: list[Episode]) -> list[str]:
        names = []
        translate = translator(REASON_LOCALE)
        held = {e.id: e for e in episodes}
        for release in self._published_sets(episodes):
            title = next(i.episode.title for i in release.items if i.episode_id in held)
            reason = msg.WITHDRAWN_REASON.render(
                {"title": title, "date": licence.ends_on.isoformat()},  # type: ignore[union-attr]
                translate,
            )
            ReleaseService(self.session).withdraw(release, reason, None)
            names.append(release.name)
        return names

    def _first(self, licence: Licence, kind: str) -> bool:
        """Say whether the ``kind`` notice for the licence's current end date is still due."""
        return (
            self.session.scalar(
                select(LicenceNotice.id).where(
                    LicenceNotice.licence_id == licence.id,
                    LicenceNotice.kind == kind,
                    LicenceNotice.ends_on == licence.ends_on,
                )
            )
            is None
        )

    def _recipients(self, episodes: list[Episode]) -> tuple[list[User], list[User]]:
        """Return the publishers, and the county accounts that received these episodes."""

        def with_role(role: Role) -> Select[User]:
            return (
                select(User)
                .join(UserRole, UserRole.user_id == User.id)
                .where(User.active, UserRole.role == role)
                .order_by(User.id)
            )

        publishers = list(self.session.scalars(with_role(Role.PUBLISHER)))
        ids = [e.id for e in episodes]
        sets = (
            select(ReleaseItem.release_id)
            .join(ReleaseSet)
            .where(ReleaseItem.episode_id.in_(ids), ReleaseSet.state != ReleaseState.DRAFT)
        )
        everywhere = self.session.scalar(
            select(ReleaseSet.id).where(ReleaseSet.id.in_(sets), ReleaseSet.all_counties).limit(1)
        )
        counties = (
            select(County.id)
            if everywhere
            else select(ReleaseTarget.county_id).where(ReleaseTarget.release_id.in_(sets))
        )
        county_users = list(
            self.session.scalars(with_role(Role.COUNTY).where(User.county_id.in_(counties)))
        )
        return publishers, county_users

    def _notify(
        self, licence: Licence, kind: str, episodes: list[Episode], withdrawn: list[str]
    ) -> None:
        publishers, counties = self._recipients(episodes)
        title = (
            f"《{licence.programme.name}》" if licence.programme is not None
            else f"《{episodes[0].programme.name}》{episodes[0].title}" if episodes else ""
        )  # fmt: skip
        params = {
            "title": title,
            "holder": licence.holder,
            "date": licence.ends_on.isoformat() if licence.ends_on else "",
            "sets": "、".join(withdrawn) or "—",
        }
        notice_kind = "licence_expiring" if kind == "ahead" else "licence_expired"
        link = (
            f"/episodes/{episodes[0].id}#licence" if episodes
            else "/"
        )  # fmt: skip
        for people, where in ((publishers, link), (counties, "/county/")):
            if people:
                notice = Notice(
                    recipients=people, kind=notice_kind, version_id=0, title=title,
                    link=where, params=params,
                )  # fmt: skip
                after_commit(self.session, partial(self.notifier.send, notice))
        self.session.add(
            LicenceNotice(
                licence_id=licence.id, kind=kind, ends_on=licence.ends_on,
                recipients=len(publishers) + len(counties),
            )
        )  # fmt: skip
        object_type, object_id = (
            (ObjectType.PROGRAMME, licence.programme_id) if licence.programme_id
            else (ObjectType.EPISODE, licence.episode_id)
        )  # fmt: skip
        record(
            self.session, AuditAction.LICENCE_NOTICE_SENT, None, object_type, object_id,
            details={
                "kind": kind, "ends_on": params["date"], "withdrawn": withdrawn,
                "publishers": [u.id for u in publishers], "counties": [u.id for u in counties],
            },
        )  # fmt: skip
        self.session.flush()
