"""Tables exported for people (XLSX) and for programs (CSV), in the reader's language.

A :class:`Table` keeps raw values (numbers, booleans, dates) and English column headings
marked with ``N_``; the writers translate headings and yes/no with the reader's gettext.
CSV is for programs: dates stay ISO 8601, cells are formula-safe (:mod:`mam.exports`), UTF-8
with a BOM for Excel. XLSX is for people: real date cells shown as 2026年11月30日 in Chinese,
yes/no as 是/否, text cells never formulas.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from mam.exports import csv_text
from mam.i18n import N_, catalogue_locale

YES, NO = N_("yes"), N_("no")
DATE_FORMATS = {  # Excel number formats: Chinese readers get 2026年11月30日
    "zh": ('yyyy"年"m"月"d"日"', 'yyyy"年"m"月"d"日" hh:mm'),
    "en": ("yyyy-mm-dd", "yyyy-mm-dd hh:mm"),
}


@dataclass(frozen=True)
class Column:
    """One column: a stable key, its English heading (``N_``) and the kind of its values."""

    key: str
    heading: str
    kind: str = "text"  # text | int | bool | date | datetime


@dataclass
class Table:
    """A titled table of raw values."""

    title: str
    columns: Sequence[Column]
    rows: list[Sequence[object]] = field(default_factory=list)


def _csv_value(value: object, kind: str, translate: Callable[[str], str]) -> object:
    if value is None:
        return ""
    if kind == "bool":
        return translate(YES) if value else translate(NO)
    if isinstance(value, datetime | date):
        return value.isoformat()  # a program reads it
    return value


def to_csv(table: Table, translate: Callable[[str], str]) -> str:
    """Return the table as CSV: translated headings, yes/no in words, ISO dates."""
    header = [translate(c.heading) for c in table.columns]
    rows = [
        [_csv_value(v, c.kind, translate) for v, c in zip(row, table.columns, strict=True)]
        for row in table.rows
    ]
    return csv_text(header, rows)


def to_xlsx(table: Table, translate: Callable[[str], str], locale: str | None) -> bytes:
    """Return the table as an XLSX workbook for people, in ``locale``'s conventions."""
    date_format, datetime_format = DATE_FORMATS["zh" if catalogue_locale(locale) else "en"]
    book = Workbook(write_only=False)
    sheet = book.create_sheet(index=0)
    book.remove(book.worksheets[1])  # the empty default sheet
    sheet.title = translate(table.title)[:31]  # Excel's limit on sheet names
    sheet.append([translate(c.heading) for c in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r, row in enumerate(table.rows, start=2):
        for c, (value, column) in enumerate(zip(row, table.columns, strict=True), start=1):
            cell = sheet.cell(row=r, column=c)
            if value is None:
                continue
            if column.kind == "bool":
                cell.value = translate(YES) if value else translate(NO)
            elif isinstance(value, datetime):
                cell.value = value.replace(tzinfo=None)  # stored UTC, shown as such
                cell.number_format = datetime_format
            elif isinstance(value, date):
                cell.value = value
                cell.number_format = date_format
            elif isinstance(value, str):
                cell.value = value
                cell.data_type = "s"  # text, never a formula (even one starting with "=")
            else:
                cell.value = value
    for c, column in enumerate(table.columns, start=1):
        width = max([len(translate(column.heading)) * 2, 10])
        sheet.column_dimensions[get_column_letter(c)].width = min(width, 40)
    sheet.freeze_panes = "A2"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
