"""Send a table (mam.tables) as CSV or XLSX in the reader's language (``?lang=en`` for English)."""

from __future__ import annotations

from flask import Response, request
from flask_babel import get_locale

from mam.i18n import translator
from mam.tables import Table, to_csv, to_xlsx
from web.extensions import LOCALES

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_locale() -> str:
    """Return the language of an export: ``?lang=`` if it names one, else the page's."""
    wanted = request.args.get("lang", "")
    if wanted in LOCALES or wanted == "zh":
        return "zh_CN" if wanted == "zh" else wanted
    return str(get_locale() or "zh_CN")


def export(table: Table, name: str, kind: str) -> Response:
    """Return ``table`` as a download: CSV (UTF-8 with BOM, for Excel too) or XLSX."""
    locale = export_locale()
    translate = translator(locale)
    if kind == "xlsx":
        body: bytes | str = to_xlsx(table, translate, locale)
        mimetype = XLSX
    else:
        body = "\ufeff" + to_csv(table, translate)  # the BOM: Excel on Chinese Windows
        mimetype = "text/csv"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename={name}.{kind}"},
    )
