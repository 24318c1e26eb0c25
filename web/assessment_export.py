"""Assessment figures as files: XLSX with Chinese headers for people, CSV for programs.

The CSV keeps stable English column names (``plan_numerator`` …) so scripts do not break
when a label is reworded; the XLSX speaks the reader's language. Cells are formula-safe
either way (``mam.exports.csv_cell``).
"""

from __future__ import annotations

import io

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from mam.exports import csv_cell, csv_text
from mam.services.assessment import GroupScore
from mam.services.assessment_sql import Grain, Period


def _names(rows: list[GroupScore]) -> list[str]:
    return [f.indicator.name for f in rows[0].figures] if rows else []


def csv_document(rows: list[GroupScore]) -> str:
    """Return one line per group: rank, id, name, score, each indicator's fraction."""
    names = _names(rows)
    header = ["rank", "id", "name", "score", "held", "attendance"]
    for n in names:
        header += [f"{n}_numerator", f"{n}_denominator", f"{n}_weight"]
    body = []
    for r in rows:
        line: list[object] = [
            r.rank,
            r.id,
            r.name,
            "" if r.score is None else r.score,
            r.held,
            r.attendance,
        ]
        for f in r.figures:
            line += [f.numerator, f.denominator, f.weight]
        body.append(line)
    return csv_text(header, body)


def xlsx_document(rows: list[GroupScore], grain: Grain, period: Period) -> bytes:
    """Return a workbook: a title line, headers in the reader's language, one row per group."""
    book = Workbook()
    sheet = book.create_sheet(index=0)
    book.remove(book.worksheets[1])
    sheet.title = _("Assessment")
    what = {Grain.COUNTY: _("County"), Grain.TOWNSHIP: _("Township"), Grain.POINT: _("Point")}
    sheet.append([_("Target assessment %(period)s", period=period.label)])
    sheet["A1"].font = Font(bold=True, size=14)
    header = [_("Rank"), what[grain], _("Score"), _("Screenings held"), _("Attendance")]
    for f in rows[0].figures if rows else []:
        label = _(f.indicator.label)
        header += [
            f"{label}（%）",
            f"{label}：{_(f.indicator.numerator)}",
            f"{label}：{_(f.indicator.denominator)}",
            f"{label}：{_('Weight')}",
        ]
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for r in rows:
        line: list[object] = [r.rank, csv_cell(r.name), r.score, r.held, r.attendance]
        for f in r.figures:
            value = None if f.value is None else round(100 * f.value, 1)
            line += [value, f.numerator, f.denominator, f.weight]
        sheet.append(line)
    sheet.column_dimensions["B"].width = 24
    sheet.freeze_panes = "C3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
