"""Screening reports per film and point, usually against a plan entry (放映情况).

Outcomes: ``held`` (as planned: the plan's day and point), ``moved`` (held on another day or
at another point; a reason is required), ``not_held`` (a reason is required; no attendance).
Attendance is a total; where the site asks for it (``MAM_SCREENING_PARTY_SPLIT``) it is
given as party members + masses (党员/群众) and the total is their sum. A report may carry a
note and one photo (JPEG, PNG or WebP that decodes, at most ``MAM_SCREENING_PHOTO_MAX_BYTES``),
stored under ``screenings/<id>/photo``. One report per plan entry: filing again corrects it.
The caller commits (a photo is written to storage first, under the report's key).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import date, time, timedelta

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam import inputs
from mam.errors import InvalidInput, NotFound
from mam.i18n import N_
from mam.models import User, utcnow
from mam.models.network import Plan, PlanEntry, PlaybackPoint, Township
from mam.models.release import Screening, ScreeningOutcome
from mam.services import assessment_rollup as rollup
from mam.services.network_scope import NetworkScope, audit
from mam.services.supply import require_supplied
from storage import Storage

MAX_ATTENDANCE = 100_000
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PIXELS = 60_000_000  # larger images are refused before decoding (decompression bombs)


@dataclass(frozen=True)
class Attendance:
    total: int
    party_members: int | None = None
    masses: int | None = None

    @classmethod
    def parse(cls, form: dict[str, object], *, split: bool) -> Attendance:
        """Read the attendance fields of a report (split into 党员/群众 if ``split``)."""
        if split:
            party = inputs.parse_int(
                form.get("party_members"), "party_members", maximum=MAX_ATTENDANCE
            )
            masses = inputs.parse_int(form.get("masses"), "masses", maximum=MAX_ATTENDANCE)
            return cls(party + masses, party, masses)
        total = inputs.parse_int(form.get("viewers"), "viewers", maximum=MAX_ATTENDANCE)
        return cls(total)


@dataclass(frozen=True)
class ReportData:
    """A report as filed: what happened, when, where, who came."""

    outcome: ScreeningOutcome
    screened_on: date
    point_id: int
    attendance: Attendance | None = None
    screened_time: time | None = None
    reason: str = ""
    note: str = ""


@dataclass(frozen=True)
class Photo:
    data: bytes
    filename: str = ""


class ScreeningReports:
    """File and read screening reports for townships."""

    def __init__(
        self,
        session: Session,
        actor: User,
        storage: Storage,
        *,
        party_split: bool = False,
        photo_max_bytes: int = 8 * 1000**2,
    ) -> None:
        self.session = session
        self.actor = actor
        self.storage = storage
        self.party_split = party_split
        self.photo_max_bytes = photo_max_bytes
        self.scope = NetworkScope(session, actor)

    def for_entries(self, entries: list[PlanEntry]) -> dict[int, Screening]:
        """Return the reports filed against ``entries``, by entry id."""
        ids = [e.id for e in entries]
        if not ids:
            return {}
        rows = self.session.scalars(select(Screening).where(Screening.plan_entry_id.in_(ids)))
        return {int(r.plan_entry_id or 0): r for r in rows}

    def unreported(self, township: Township, until: date, *, days: int = 62) -> list[PlanEntry]:
        """Return the township's plan entries up to ``until`` with no report yet."""
        self.scope.township(township.id)
        reported = select(Screening.plan_entry_id).where(Screening.plan_entry_id.is_not(None))
        return list(
            self.session.scalars(
                select(PlanEntry)
                .join(Plan, Plan.id == PlanEntry.plan_id)
                .where(
                    Plan.township_id == township.id,
                    PlanEntry.planned_on <= until,
                    PlanEntry.planned_on > until - timedelta(days=days),
                    PlanEntry.id.not_in(reported),
                )
                .order_by(PlanEntry.planned_on, PlanEntry.planned_time, PlanEntry.id)
            )
        )

    def recent(self, township: Township, *, limit: int = 50) -> list[Screening]:
        """Return the township's latest reports."""
        self.scope.township(township.id)
        return list(
            self.session.scalars(
                select(Screening)
                .where(Screening.township_id == township.id)
                .order_by(Screening.screened_on.desc(), Screening.id.desc())
                .limit(limit)
            )
        )

    def get(self, screening_id: int) -> Screening:
        """Return a network screening report the actor may see."""
        row = self.session.get(Screening, screening_id)
        if row is None or row.township_id is None:
            raise NotFound(N_("This screening report does not exist."), params={})
        self.scope.township(row.township_id)
        return row

    def report_entry(
        self, entry: PlanEntry, data: ReportData, photo: Photo | None = None
    ) -> Screening:
        """File (or correct) the report of a planned screening."""
        township = self.scope.township(entry.plan.township_id)
        if data.outcome == ScreeningOutcome.HELD and (
            data.screened_on != entry.planned_on or data.point_id != entry.point_id
        ):
            raise InvalidInput(
                N_("The day or the point differs from the plan: choose 'moved' and say why."),
                field="outcome",
            )
        row = self.session.scalar(select(Screening).where(Screening.plan_entry_id == entry.id))
        corrected = row is not None
        if row is None:
            row = Screening(plan_entry_id=entry.id, user_id=self.actor.id)
        row.release_id, row.episode_id = entry.release_id, entry.episode_id
        return self._file(row, township, data, photo, corrected=corrected)

    def report_unplanned(
        self, township: Township, film: tuple[int, int], data: ReportData, photo: Photo | None
    ) -> Screening:
        """File the report of a screening that was not in the plan (held only)."""
        self.scope.township(township.id)
        if data.outcome != ScreeningOutcome.HELD:
            raise InvalidInput(
                N_("A screening outside the plan can only be reported as held."), field="outcome"
            )
        require_supplied(self.session, township.county_id, *film)
        row = Screening(user_id=self.actor.id, release_id=film[0], episode_id=film[1])
        return self._file(row, township, data, photo, corrected=False)

    def _file(
        self,
        row: Screening,
        township: Township,
        data: ReportData,
        photo: Photo | None,
        *,
        corrected: bool,
    ) -> Screening:
        point = self.session.get(PlaybackPoint, data.point_id)
        if point is None or point.township_id != township.id:
            raise InvalidInput(N_("Choose a playback point of this township."), field="point")
        self._check(data)
        before = rollup.screening_before(row)
        row.county_id, row.township_id, row.point_id = township.county_id, township.id, point.id
        row.place = point.name[:200]
        row.outcome = data.outcome
        row.screened_on, row.screened_time = data.screened_on, data.screened_time
        attendance = data.attendance if data.outcome != ScreeningOutcome.NOT_HELD else None
        row.viewers = attendance.total if attendance else 0
        row.party_members = attendance.party_members if attendance else None
        row.masses = attendance.masses if attendance else None
        row.reason = inputs.optional_text(data.reason, "reason", 1000, multiline=True) or None
        row.note = inputs.optional_text(data.note, "note", 2000, multiline=True)
        checked = self._check_photo(photo) if photo is not None else None
        if corrected:
            row.updated_at = utcnow()
        self.session.add(row)
        self.session.flush()
        rollup.screening_after(self.session, row, before)
        if checked is not None:
            key = f"screenings/{row.id}/photo"
            self.storage.put_bytes(key, photo.data, content_type=checked)  # type: ignore[union-attr]
            row.photo_key, row.photo_type = key, checked
        audit(
            self.session,
            self.actor,
            "screening_corrected" if corrected else "screening_reported",
            "screening",
            row.id,
            to_state=row.outcome.value,
            reason=row.reason,
            plan_entry_id=row.plan_entry_id,
            point_id=row.point_id,
            episode_id=row.episode_id,
            viewers=row.viewers,
            photo=checked is not None,
        )
        return row

    def _check(self, data: ReportData) -> None:
        needs_reason = data.outcome in (ScreeningOutcome.MOVED, ScreeningOutcome.NOT_HELD)
        if needs_reason and not inputs.optional_text(data.reason, "reason", 1000, multiline=True):
            raise InvalidInput(N_("Say why the screening was moved or not held."), field="reason")
        if data.outcome != ScreeningOutcome.NOT_HELD:
            if data.attendance is None:
                raise InvalidInput(N_("Give the number of viewers."), field="viewers")
            if data.screened_on > date.today() + timedelta(days=1):
                raise InvalidInput(
                    N_("A screening cannot be reported before it happens."), field="screened_on"
                )

    def _check_photo(self, photo: Photo) -> str:
        if len(photo.data) > self.photo_max_bytes:
            raise InvalidInput(
                N_("The photo is larger than %(mb)s MB."),
                params={"mb": round(self.photo_max_bytes / 1000**2, 1)},
                field="photo",
            )
        try:
            with warnings.catch_warnings(), Image.open(io.BytesIO(photo.data)) as image:
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                kind = image.format or ""
                width, height = image.size
                if kind not in PHOTO_TYPES or width * height > MAX_PIXELS:
                    raise ValueError(kind)
                image.verify()
        except (
            UnidentifiedImageError,
            ValueError,
            OSError,
            SyntaxError,
            Image.DecompressionBombError,
            Image.DecompressionBombWarning,
        ):
            raise InvalidInput(
                N_("The photo must be a JPEG, PNG or WebP image."), field="photo"
            ) from None
        return PHOTO_TYPES[kind]
