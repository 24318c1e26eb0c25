"""Import a county's townships, organisations and playback points from a spreadsheet.

CSV (UTF-8, UTF-8 with BOM or GBK) or XLSX (the first sheet), one row per point or per
organisation still without a point. Columns (Chinese or English header names):
乡镇/township (required), 网点名称/point, 类型/kind (required), 单位/organisation,
地址/address, 联系人/contact, 电话/phone.

- A row with a point name describes a playback point; the organisation it serves is the
  单位 column, or, when that is empty, an organisation of the point's own name and kind.
- A row without a point name records an organisation that should have a point but has
  none yet (it lowers the build-out rate until a point is built).
- Missing townships are created; existing townships, organisations and points (same name
  in the same township) are updated, so importing a sheet twice changes nothing.

The whole sheet is checked first (:meth:`NetworkImport.check`): every problem is reported
with its line number and nothing is written while any remain (the dry run).
:meth:`NetworkImport.apply` writes a clean sheet; the caller commits.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam import inputs
from mam.errors import InvalidInput, MamError
from mam.i18n import N_
from mam.models import User
from mam.models.network import Organisation, PlaybackPoint, PointKind, Township
from mam.services.network import NetworkService, PointData
from mam.services.network_scope import audit
from mam.services.subtitles import decode_text

MAX_ROWS = 20_000
ALIASES = {
    "乡镇": "township",
    "乡镇(街道)": "township",
    "乡镇街道": "township",
    "乡镇电教站": "township",
    "网点名称": "point",
    "网点": "point",
    "播放网点": "point",
    "名称": "point",
    "类型": "kind",
    "网点类型": "kind",
    "单位": "organisation",
    "单位名称": "organisation",
    "组织": "organisation",
    "地址": "address",
    "联系人": "contact",
    "电话": "phone",
    "联系电话": "phone",
}
REQUIRED = ("township", "kind")
KNOWN = {"township", "point", "kind", "organisation", "address", "contact", "phone"}
KIND_WORDS = {
    "行政村": PointKind.VILLAGE,
    "村": PointKind.VILLAGE,
    "城市社区": PointKind.COMMUNITY,
    "社区": PointKind.COMMUNITY,
    "非公企业": PointKind.ENTERPRISE,
    "企业": PointKind.ENTERPRISE,
    "社会组织": PointKind.SOCIAL_ORG,
    "新社会组织": PointKind.SOCIAL_ORG,
    "学校": PointKind.SCHOOL,
    "其他": PointKind.OTHER,
    "其它": PointKind.OTHER,
    **{k.value: k for k in PointKind},
}


@dataclass
class SheetRow:
    line: int
    township: str
    organisation: str
    kind: PointKind
    point: PointData | None


@dataclass
class RowReport:
    """What the import does (or would do) with one line."""

    line: int
    township: str
    name: str
    action: str  # create, update, unchanged, organisation, error
    problem: MamError | None = None


@dataclass
class Check:
    """The dry run: every line's report; nothing may be written while ``errors`` remain."""

    encoding: str
    reports: list[RowReport] = field(default_factory=list)
    rows: list[SheetRow] = field(default_factory=list)

    @property
    def errors(self) -> list[RowReport]:
        return [r for r in self.reports if r.problem is not None]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.reports:
            out[r.action] = out.get(r.action, 0) + 1
        return out


def read_sheet(data: bytes, filename: str) -> tuple[list[tuple[int, dict[str, str]]], str]:
    """Return (line number, row by column key) pairs and the encoding or format."""
    if filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return _read_xlsx(data), "XLSX"
    text, encoding = decode_text(data, filename)
    reader = csv.reader(io.StringIO(text))
    lines = [(n, row) for n, row in enumerate(reader, start=1) if any(c.strip() for c in row)]
    return _keyed(lines), encoding


def _read_xlsx(data: bytes) -> list[tuple[int, dict[str, str]]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise InvalidInput(N_("The file is not a readable XLSX workbook.")) from None
    try:
        sheet = book.worksheets[0]
        lines = []
        for n, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            row = ["" if c is None else str(c) for c in cells]
            if any(c.strip() for c in row):
                lines.append((n, row))
            if len(lines) > MAX_ROWS + 1:
                break
    finally:
        book.close()
    return _keyed(lines)


def _keyed(lines: list[tuple[int, list[str]]]) -> list[tuple[int, dict[str, str]]]:
    if not lines:
        raise InvalidInput(N_("The sheet is empty."))
    if len(lines) > MAX_ROWS + 1:
        raise InvalidInput(
            N_("The sheet has more than %(n)s rows; split it."), params={"n": MAX_ROWS}
        )
    header = [_key(h) for h in lines[0][1]]
    missing = [k for k in REQUIRED if k not in header]
    if missing or ("point" not in header and "organisation" not in header):
        raise InvalidInput(
            N_(
                "The first row must name the columns: "
                "乡镇, 网点名称, 类型 (地址, 联系人, 电话, 单位)."
            )
        )
    out = []
    for n, row in lines[1:]:
        out.append((n, {k: (row[i] if i < len(row) else "") for i, k in enumerate(header) if k}))
    return out


def _key(name: str) -> str:
    text = name.strip().lstrip("\ufeff").replace("（", "(").replace("）", ")")
    key = ALIASES.get(text, text.lower())
    return key if key in KNOWN else ""


def parse_kind(value: str) -> PointKind:
    """Return the kind a sheet names (行政村, 城市社区, … or the English value)."""
    kind = KIND_WORDS.get(value.strip())
    if kind is None:
        raise InvalidInput(
            N_("Unknown kind %(value)s: use 行政村, 城市社区, 非公企业, 社会组织, 学校 or 其他."),
            params={"value": value.strip()[:40]},
            field="kind",
        )
    return kind


class NetworkImport:
    """Check a sheet for one county, then write it."""

    def __init__(self, session: Session, actor: User, county_id: int) -> None:
        self.session = session
        self.actor = actor
        self.county_id = county_id
        self.network = NetworkService(session, actor)
        self.network.scope.require_county(county_id)

    def check(self, data: bytes, filename: str) -> Check:
        """Read and check every row; write nothing."""
        lines, encoding = read_sheet(data, filename)
        result = Check(encoding)
        seen: set[tuple[str, str]] = set()
        for line, values in lines:
            report = self._check_row(line, values, seen, result)
            result.reports.append(report)
        return result

    def _check_row(
        self, line: int, values: dict[str, str], seen: set[tuple[str, str]], result: Check
    ) -> RowReport:
        township = values.get("township", "").strip()
        name = (values.get("point") or values.get("organisation") or "").strip()
        try:
            row = self._parse(line, values)
        except MamError as exc:
            return RowReport(line, township, name, "error", exc)
        key = (row.township, row.point.name if row.point else "\0" + row.organisation)
        if key in seen:
            problem = InvalidInput(N_("The same point appears twice in this township."))
            return RowReport(line, township, name, "error", problem)
        seen.add(key)
        result.rows.append(row)
        return RowReport(line, row.township, name, self._action(row))

    def _parse(self, line: int, values: dict[str, str]) -> SheetRow:
        township = inputs.clean_text(values.get("township"), "township", 100)
        kind = parse_kind(values.get("kind", ""))
        point_name = inputs.optional_text(values.get("point"), "name", 200)
        organisation = inputs.optional_text(values.get("organisation"), "organisation", 200)
        if not point_name and not organisation:
            raise InvalidInput(N_("Give the point's name (网点名称) or the organisation (单位)."))
        point = None
        if point_name:
            point = PointData.parse(
                {
                    "name": point_name,
                    "kind": kind.value,
                    "address": values.get("address"),
                    "contact_name": values.get("contact"),
                    "contact_phone": values.get("phone"),
                }
            )
        return SheetRow(line, township, organisation or point_name, kind, point)

    def _action(self, row: SheetRow) -> str:
        township = self._township(row.township)
        if row.point is None:
            return "organisation"
        if township is None:
            return "create"
        existing = self._point(township, row.point.name)
        if existing is None:
            return "create"
        same = (
            existing.kind == row.point.kind
            and existing.address == row.point.address
            and existing.contact_name == row.point.contact_name
            and existing.contact_phone == row.point.contact_phone
            and existing.active
        )
        return "unchanged" if same else "update"

    def apply(self, check: Check) -> dict[str, int]:
        """Write a checked sheet (refused while it has errors); return the counts."""
        if check.errors:
            raise InvalidInput(
                N_("The sheet has %(n)s problems; correct them and check again."),
                params={"n": len(check.errors)},
            )
        for row in check.rows:
            self._write(row)
        counts = check.counts()
        audit(
            self.session,
            self.actor,
            "network_imported",
            "county",
            self.county_id,
            counts=counts,
        )
        return counts

    def _write(self, row: SheetRow) -> None:
        township = self._township(row.township)
        if township is None:
            township = self.network.add_township(self.county_id, row.township)
        org = self.session.scalar(
            select(Organisation).where(
                Organisation.township_id == township.id, Organisation.name == row.organisation
            )
        )
        if org is None:
            org = self.network.add_organisation(township, row.organisation, row.kind.value)
        if row.point is None:
            return
        data = PointData(**{**row.point.__dict__, "organisation_id": org.id})
        point = self._point(township, row.point.name)
        if point is None:
            self.network.add_point(township, data)
            return
        if self._action(row) == "unchanged" and point.organisation_id == org.id:
            return
        self.network.update_point(point, data)
        if not point.active:
            self.network.set_point_active(point, True)

    def _township(self, name: str) -> Township | None:
        return self.session.scalar(
            select(Township).where(Township.county_id == self.county_id, Township.name == name)
        )

    def _point(self, township: Township, name: str) -> PlaybackPoint | None:
        return self.session.scalar(
            select(PlaybackPoint).where(
                PlaybackPoint.township_id == township.id, PlaybackPoint.name == name
            )
        )
