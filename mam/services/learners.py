"""Learner accounts (网上党员教育): made by county staff one by one or from a spreadsheet.

A learner signs in with their phone number (it is their username) and a password. A
password the county did not choose is generated, shown once to the county, and must be
replaced at the first sign-in. The caller commits.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from itertools import islice

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.audit import AuditAction, ObjectType, record
from mam.errors import Conflict, InvalidInput, NotAllowed, NotFound
from mam.i18n import N_
from mam.models import Role, User, UserRole, utcnow
from mam.models.learning import Learner
from mam.models.network import PlaybackPoint, Township
from mam.services.sessions import SessionService
from mam.services.subtitles import decode_text
from mam.services.users import MIN_PASSWORD, UserService, generate_password, hash_password

PHONE = re.compile(r"^1[3-9]\d{9}$")  # a mainland mobile number, 11 digits
MAX_ROWS = 5000
MAX_COLUMNS = 20
MAX_SHEET_BYTES = 5 * 1000 * 1000
# Spreadsheet columns: the Chinese headings county staff use, and English ones.
COLUMNS = {
    "姓名": "name",
    "name": "name",
    "手机号": "phone",
    "手机号码": "phone",
    "phone": "phone",
    "初始密码": "password",
    "密码": "password",
    "password": "password",
    "网点": "point",
    "播放网点": "point",
    "point": "point",
}
Problem = tuple[str, dict[str, object]]
PHONE_TAKEN = N_("An account with phone number %(phone)s exists already.")
POINT_UNKNOWN = N_("The county has no active playback point named %(point)s.")
POINT_NOT_IN_COUNTY = N_("Choose an active playback point of the learner's county.")


@dataclass
class SheetRow:
    """One learner as the spreadsheet gives it, with what is wrong with it."""

    line: int
    name: str
    phone: str
    password: str = ""
    problems: list[Problem] = field(default_factory=list)
    point: str = ""  # the playback point's name (网点), optional
    point_id: int | None = None  # filled in by LearnerService.check


@dataclass
class Created:
    """A learner account just made; ``password`` is set only when it was generated."""

    line: int
    learner: Learner
    password: str | None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone number typed into Excel becomes 13800138000.0
    return str(value).strip()


def _rows_from_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # noqa: PLC0415 - only spreadsheets need it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise InvalidInput(N_("The file is not an XLSX workbook.")) from None
    try:
        sheet = book.worksheets[0]
        # Read no further than a sheet may go (a huge or hostile workbook stops here).
        rows = islice(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), MAX_ROWS + 2)
        return [[_cell(c) for c in row] for row in rows]
    finally:
        book.close()


def read_sheet(data: bytes, filename: str) -> list[SheetRow]:
    """Read learners from CSV (UTF-8, BOM or GBK) or XLSX; refuse a sheet without 姓名/手机号."""
    if len(data) > MAX_SHEET_BYTES:
        raise InvalidInput(N_("The spreadsheet is larger than 5 MB."))
    if filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        table = _rows_from_xlsx(data)
    else:
        text, _encoding = decode_text(data, filename)
        table = [[_cell(c) for c in row] for row in csv.reader(io.StringIO(text))]
    if not table:
        raise InvalidInput(N_("The spreadsheet is empty."))
    header = [COLUMNS.get(h.lstrip("\ufeff").strip().lower(), "") for h in table[0]]
    if "name" not in header or "phone" not in header:
        raise InvalidInput(
            N_("The first row must name the columns 姓名 and 手机号 (初始密码 optional).")
        )
    rows: list[SheetRow] = []
    for line, cells in enumerate(table[1:], start=2):
        values = dict(zip(header, cells, strict=False))
        if not any(values.get(k) for k in ("name", "phone", "password")):
            continue
        name, phone = values.get("name", ""), values.get("phone", "")
        rows.append(
            SheetRow(line, name, phone, values.get("password", ""), point=values.get("point", ""))
        )
    if len(rows) > MAX_ROWS:
        raise InvalidInput(N_("At most %(n)d learners per spreadsheet."), params={"n": MAX_ROWS})
    return rows


class LearnerService:
    """Create and list a county's learner accounts (the caller commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def check(self, rows: list[SheetRow], county_id: int | None = None) -> list[SheetRow]:
        """Fill in every row's problems (a dry run): names, phones, duplicates, passwords,
        and the playback point named (an active point of ``county_id``)."""
        points = {} if county_id is None else self._point_names(county_id)
        phones = [r.phone for r in rows if PHONE.match(r.phone)]
        taken = set(self.session.scalars(select(User.username).where(User.username.in_(phones))))
        seen: dict[str, int] = {}
        for row in rows:
            row.problems.clear()
            if not row.name or len(row.name) > 100:
                row.problems.append((N_("Give a name of 1 to 100 characters."), {}))
            if not PHONE.match(row.phone):
                row.problems.append(
                    (N_("%(phone)s is not an 11-digit mobile number."), {"phone": row.phone})
                )
            elif row.phone in seen:
                row.problems.append(
                    (N_("The phone number is on line %(line)d too."), {"line": seen[row.phone]})
                )
            elif row.phone in taken:
                row.problems.append((PHONE_TAKEN, {"phone": row.phone}))
            seen.setdefault(row.phone, row.line)
            if row.password and not MIN_PASSWORD <= len(row.password) <= 256:
                row.problems.append(
                    (N_("The initial password must have %(n)d to 256 characters."),
                     {"n": MIN_PASSWORD})
                )  # fmt: skip
            row.point_id = points.get(row.point) if row.point else None
            if row.point and row.point_id is None:
                row.problems.append((POINT_UNKNOWN, {"point": row.point}))
        return rows

    def import_rows(self, county_id: int, rows: list[SheetRow], actor: User) -> list[Created]:
        """Create every row's account, or none if any row has a problem."""
        self._require_staff(actor, county_id)
        bad = [r for r in self.check(rows, county_id) if r.problems]
        if bad:
            raise InvalidInput(
                N_("%(n)d lines have problems; nothing was imported."), params={"n": len(bad)}
            )
        created = [
            Created(
                r.line,
                *self._make(county_id, r.name, r.phone, r.password or None, actor, r.point_id),
            )
            for r in rows
        ]
        record(
            self.session, AuditAction.LEARNERS_IMPORTED, actor, ObjectType.COUNTY, county_id,
            details={"count": len(created)},
        )  # fmt: skip
        return created

    def create(
        self,
        county_id: int,
        name: str,
        phone: str,
        password: str | None,
        actor: User,
        point_id: int | None = None,
    ) -> Created:
        """Create one learner account; return it with the generated password, if any."""
        self._require_staff(actor, county_id)
        row = self.check([SheetRow(0, name.strip(), phone.strip(), password or "")])[0]
        if row.problems:
            template, params = row.problems[0]
            raise (Conflict if template == PHONE_TAKEN else InvalidInput)(template, params=params)
        self.require_point(county_id, point_id)
        made = self._make(county_id, row.name, row.phone, row.password or None, actor, point_id)
        return Created(0, *made)

    def get(self, learner_id: int, actor: User) -> Learner:
        """Return a learner of the actor's county (any county for an admin)."""
        learner = self.session.get(Learner, learner_id)
        if learner is None or (
            not actor.has_role(Role.ADMIN) and learner.county_id != actor.county_id
        ):
            raise NotFound(N_("Learner %(id)s does not exist."), params={"id": learner_id})
        self._require_staff(actor, learner.county_id)
        return learner

    def update(
        self, learner_id: int, actor: User, *, name: str, phone: str, point_id: int | None
    ) -> Learner:
        """Change a learner's name, phone number (their username) and playback point."""
        learner = self.get(learner_id, actor)
        user = learner.user
        row = self.check([SheetRow(0, name.strip(), phone.strip())])[0]
        problems = [
            p for p in row.problems if not (p[0] == PHONE_TAKEN and row.phone == learner.phone)
        ]
        if problems:
            template, params = problems[0]
            raise (Conflict if template == PHONE_TAKEN else InvalidInput)(template, params=params)
        self.require_point(learner.county_id, point_id, keep=learner.point_id)
        before = {"name": user.display_name, "phone": learner.phone, "point_id": learner.point_id}
        after = {"name": row.name, "phone": row.phone, "point_id": point_id}
        if before == after:
            return learner
        user.display_name, user.username = row.name, row.phone
        learner.phone, learner.point_id = row.phone, point_id
        self.session.flush()
        record(
            self.session, AuditAction.LEARNER_UPDATED, actor, ObjectType.USER, user.id,
            details={k: [before[k], after[k]] for k in before if before[k] != after[k]},
        )  # fmt: skip
        return learner

    def set_active(self, learner_id: int, actor: User, *, active: bool) -> Learner:
        """Deactivate a learner (they cannot sign in; their sessions end) or reactivate."""
        learner = self.get(learner_id, actor)
        user = learner.user
        if user.active == active:
            return learner
        UserService(self.session).set_active(user, active, actor=actor)
        action = AuditAction.LEARNER_REACTIVATED if active else AuditAction.LEARNER_DEACTIVATED
        record(self.session, action, actor, ObjectType.USER, user.id, details={})
        return learner

    def require_point(self, county_id: int, point_id: int | None, keep: int | None = None) -> None:
        """Refuse a playback point that is not an active point of the county (a learner may
        keep the point they have, even once it is deactivated)."""
        if point_id is None or point_id == keep:
            return
        point = self.session.get(PlaybackPoint, point_id)
        if point is None or not point.active or point.township.county_id != county_id:
            raise InvalidInput(POINT_NOT_IN_COUNTY, field="point")

    def points(self, county_id: int) -> list[PlaybackPoint]:
        """Return the county's active playback points (the choices for a learner)."""
        return list(
            self.session.scalars(
                select(PlaybackPoint)
                .join(Township, Township.id == PlaybackPoint.township_id)
                .where(Township.county_id == county_id, PlaybackPoint.active)
                .order_by(Township.name, PlaybackPoint.name)
            )
        )

    def _point_names(self, county_id: int) -> dict[str, int]:
        return {p.name: p.id for p in self.points(county_id)}

    def reset_password(self, learner_id: int, actor: User) -> Created:
        """Give a learner of the actor's county a new generated password (shown once)."""
        learner = self.get(learner_id, actor)
        password = generate_password()
        user = learner.user
        user.password_hash = hash_password(password)
        user.must_change_password = True
        user.password_changed_at = utcnow()
        SessionService(self.session).end_all(user, reason="password_reset", actor=actor)
        record(
            self.session, AuditAction.PASSWORD_RESET, actor, ObjectType.USER, user.id,
            details={"temporary": True, "learner": True},
        )  # fmt: skip
        return Created(0, learner, password)

    def for_county(self, county_id: int) -> list[Learner]:
        """Return the county's learners, newest first."""
        return list(
            self.session.scalars(
                select(Learner).where(Learner.county_id == county_id).order_by(Learner.id.desc())
            )
        )

    def _require_staff(self, actor: User, county_id: int) -> None:
        if actor.has_role(Role.ADMIN):
            return
        if not actor.has_role(Role.COUNTY) or actor.county_id != county_id:
            raise NotAllowed(N_("Only the county's own staff may create its learners."))

    def _make(
        self,
        county_id: int,
        name: str,
        phone: str,
        password: str | None,
        actor: User,
        point_id: int | None = None,
    ) -> tuple[Learner, str | None]:
        generated = generate_password() if password is None else None
        user = User(
            username=phone,
            display_name=name,
            password_hash=hash_password(password or generated or ""),
            county_id=county_id,
            must_change_password=generated is not None,
            password_changed_at=utcnow(),
            role_rows=[UserRole(role=Role.LEARNER)],
        )
        learner = Learner(
            user=user, county_id=county_id, phone=phone, created_by_id=actor.id, point_id=point_id
        )
        self.session.add(learner)
        self.session.flush()
        record(
            self.session, AuditAction.LEARNER_CREATED, actor, ObjectType.USER, user.id,
            details={"county_id": county_id, "generated_password": generated is not None},
        )  # fmt: skip
        return learner, generated
