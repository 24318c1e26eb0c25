"""A township's monthly playback and viewing plan (播放收看计划).

One plan per township and month; its entries say which film (an episode and the release
set it came in) is shown at which active point of the township on which day of the month,
and at what time. Only films the county received may be planned
(:func:`mam.services.supply.require_supplied`). A plan can be started from last month's
(same points, same day of the month, films the county still has). An entry that a
screening was reported against stays (the report refers to it). The caller commits.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam import inputs
from mam.errors import Conflict, InvalidInput, NotFound
from mam.i18n import N_
from mam.models import User
from mam.models.network import Plan, PlanEntry, PlaybackPoint, Township
from mam.models.release import Screening
from mam.services import assessment_rollup as rollup
from mam.services.network_scope import NetworkScope, audit
from mam.services.supply import require_supplied

MAX_ENTRIES = 2000
NOTE_LIMIT = 300


def month_start(day: date) -> date:
    """Return the first day of ``day``'s month."""
    return day.replace(day=1)


def previous_month(month: date) -> date:
    """Return the first day of the month before ``month``."""
    return date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)


def parse_month(value: object) -> date:
    """Parse ``YYYY-MM`` (a plan's month)."""
    text = "" if value is None else str(value).strip()
    try:
        year, month = text.split("-")
        if not (year.isascii() and month.isascii()):
            raise ValueError(text)
        return date(int(year), int(month), 1)
    except ValueError:
        raise InvalidInput(N_("Give the month as 2026-12."), field="month") from None


@dataclass(frozen=True)
class EntryData:
    """What a person types for a plan entry."""

    release_id: int
    episode_id: int
    point_id: int
    planned_on: date
    planned_time: time | None = None
    note: str = ""


@dataclass(frozen=True)
class CopyResult:
    copied: int
    skipped: int


class PlanService:
    """Make, change and read monthly plans."""

    def __init__(self, session: Session, actor: User) -> None:
        self.session = session
        self.actor = actor
        self.scope = NetworkScope(session, actor)

    def plans(self, township: Township) -> list[Plan]:
        """Return a township's plans, newest month first."""
        self.scope.township(township.id)
        return list(
            self.session.scalars(
                select(Plan).where(Plan.township_id == township.id).order_by(Plan.month.desc())
            )
        )

    def get(self, plan_id: int) -> Plan:
        """Return a plan of a township the actor works for."""
        plan = self.session.get(Plan, plan_id)
        if plan is None:
            raise NotFound(N_("This plan does not exist."), params={})
        self.scope.township(plan.township_id)
        return plan

    def find(self, township: Township, month: date) -> Plan | None:
        """Return the township's plan of ``month``, if there is one."""
        self.scope.township(township.id)
        return self.session.scalar(
            select(Plan).where(Plan.township_id == township.id, Plan.month == month_start(month))
        )

    def open(self, township: Township, month: date) -> Plan:
        """Return the township's plan of ``month``, starting an empty one if needed."""
        plan = self.find(township, month)
        if plan is not None:
            return plan
        plan = Plan(township_id=township.id, month=month_start(month), created_by_id=self.actor.id)
        self.session.add(plan)
        self.session.flush()
        audit(self.session, self.actor, "plan_created", "plan", plan.id, month=str(plan.month))
        return plan

    def set_notes(self, plan: Plan, notes: str) -> None:
        """Change a plan's notes."""
        self.get(plan.id)
        plan.notes = inputs.optional_text(notes, "notes", 4000, multiline=True)
        audit(self.session, self.actor, "plan_updated", "plan", plan.id)

    def add_entry(self, plan: Plan, data: EntryData) -> PlanEntry:
        """Plan a film at a point on a day of the plan's month."""
        self.get(plan.id)
        if len(plan.entries) >= MAX_ENTRIES:
            raise InvalidInput(N_("A plan holds at most %(n)s entries."), params={"n": MAX_ENTRIES})
        self._check(plan, data)
        entry = PlanEntry(
            plan=plan,
            release_id=data.release_id,
            episode_id=data.episode_id,
            point_id=data.point_id,
            planned_on=data.planned_on,
            planned_time=data.planned_time,
            note=inputs.optional_text(data.note, "note", NOTE_LIMIT),
        )
        self.session.add(entry)
        self.session.flush()
        rollup.plan_entry_added(self.session, entry)
        audit(
            self.session,
            self.actor,
            "plan_entry_added",
            "plan",
            plan.id,
            entry_id=entry.id,
            episode_id=data.episode_id,
            point_id=data.point_id,
            planned_on=str(data.planned_on),
        )
        return entry

    def entry(self, entry_id: int) -> PlanEntry:
        """Return a plan entry the actor may see."""
        row = self.session.get(PlanEntry, entry_id)
        if row is None:
            raise NotFound(N_("This plan entry does not exist."), params={})
        self.get(row.plan_id)
        return row

    def remove_entry(self, entry: PlanEntry) -> None:
        """Take an entry out of its plan, unless a screening was reported against it."""
        self.get(entry.plan_id)
        reported = self.session.scalar(
            select(Screening.id).where(Screening.plan_entry_id == entry.id)
        )
        if reported is not None:
            raise Conflict(N_("A screening was reported against this entry; it stays."))
        audit(
            self.session,
            self.actor,
            "plan_entry_removed",
            "plan",
            entry.plan_id,
            entry_id=entry.id,
            episode_id=entry.episode_id,
        )
        rollup.plan_entry_removed(self.session, entry)
        entry.plan.entries.remove(entry)
        self.session.flush()

    def copy_previous(self, plan: Plan) -> CopyResult:
        """Add last month's entries to ``plan``, a month later (same point, same day).

        Entries whose point is inactive, whose film the county no longer has (a withdrawn
        set), or that the plan already holds are skipped; a day past the month's end moves
        to its last day.
        """
        township = self.scope.township(plan.township_id)
        before = self.find(township, previous_month(plan.month))
        if before is None:
            raise NotFound(N_("There is no plan for the month before."), params={})
        have = {(e.episode_id, e.point_id, e.planned_on) for e in plan.entries}
        last_day = calendar.monthrange(plan.month.year, plan.month.month)[1]
        copied = skipped = 0
        for old in before.entries:
            day = plan.month.replace(day=min(old.planned_on.day, last_day))
            data = EntryData(
                old.release_id, old.episode_id, old.point_id, day, old.planned_time, old.note
            )
            if (data.episode_id, data.point_id, day) in have:
                skipped += 1
                continue
            try:
                self._check(plan, data)
            except InvalidInput:
                skipped += 1
                continue
            self.add_entry(plan, data)
            have.add((data.episode_id, data.point_id, day))
            copied += 1
        audit(
            self.session,
            self.actor,
            "plan_copied",
            "plan",
            plan.id,
            source_plan_id=before.id,
            copied=copied,
            skipped=skipped,
        )
        return CopyResult(copied, skipped)

    def _check(self, plan: Plan, data: EntryData) -> None:
        if month_start(data.planned_on) != plan.month:
            raise InvalidInput(
                N_("The day must fall in the plan's month (%(month)s)."),
                params={"month": plan.month.strftime("%Y-%m")},
                field="planned_on",
            )
        point = self.session.get(PlaybackPoint, data.point_id)
        if point is None or point.township_id != plan.township_id or not point.active:
            raise InvalidInput(
                N_("Choose an active playback point of this township."), field="point"
            )
        county_id = plan.township.county_id
        require_supplied(self.session, county_id, data.release_id, data.episode_id)
