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

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (OWASP "CSV Injection"); a leading apostrophe makes it plain text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 does not allow anywhere (not even escaped), lone surrogates included.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
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
