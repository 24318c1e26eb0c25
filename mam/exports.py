"""The one way the system writes CSV and XML: formula-safe cells, well-formed documents.

Input is checked on the way in (:mod:`mam.inputs`), but rows written before that rule, or
by a path that forgot it, must still not turn a spreadsheet cell into a formula or an Atom
feed, a PBCore record or a bag-info.txt into something a parser refuses.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (OWASP "CSV Injection"); a leading apostrophe makes it plain text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 does not allow anywhere (not even escaped), lone surrogates included.
_NOT_XML = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]"
)
_NOT_TAG_VALUE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]+")
REPLACEMENT = "\ufffd"


def csv_cell(value: object) -> object:
    """Return ``value`` safe for a spreadsheet: text that looks like a formula gets a ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_row(values: Iterable[object]) -> str:
    """Return one CSV line (with its line end) of formula-safe cells."""
    buf = io.StringIO()
    csv.writer(buf).writerow([csv_cell(v) for v in values])
    return buf.getvalue()


def csv_text(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """Return a whole CSV document: the header line, then formula-safe rows."""
    return csv_row(header) + "".join(csv_row(r) for r in rows)


def xml_text(value: object) -> str:
    """Return ``value`` as text XML 1.0 can hold (forbidden characters become U+FFFD)."""
    return _NOT_XML.sub(REPLACEMENT, "" if value is None else str(value))


def xml_document(root: ET.Element, *, indent: bool = True) -> bytes:
    """Serialise ``root`` as a UTF-8 XML document that any XML parser accepts.

    Text, tails and attribute values are cleaned with :func:`xml_text`; ElementTree does
    the escaping.
    """
    for node in root.iter():
        if node.text is not None:
            node.text = xml_text(node.text)
        if node.tail is not None:
            node.tail = xml_text(node.tail)
        for key, value in node.attrib.items():
            node.attrib[key] = xml_text(value)
    if indent:
        ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def tag_value(value: object) -> str:
    """Return ``value`` as one line for a BagIt tag file (``Label: value``)."""
    return _NOT_TAG_VALUE.sub(" ", "" if value is None else str(value)).strip()


def xlsx_document(title: str, header: Iterable[str], rows: Iterable[Iterable[object]]) -> bytes:
    """Return an XLSX workbook of one sheet: a bold header row, then formula-safe rows."""
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = xml_text(title)[:31] or "Sheet1"
    sheet.append([xml_text(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([xml_text(v) if isinstance(v, str) else v for v in map(csv_cell, row)])
    for index, column in enumerate(sheet.columns, start=1):
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(8, width * 2), 60)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
