from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "web/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
METHODS = [("web/**.py", "python"), ("web/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}


def test_every_ui_string_has_a_chinese_translation() -> None:
    """A string added to the UI without a zh_CN translation fails here (`make messages`)."""
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and (m.string if isinstance(m.string, str) else all(m.string))
    }
    found = {
        msg if isinstance(msg, str) else msg[0]
        for _file, _line, msg, _comments, _ctx in extract_from_dir(
            ROOT, method_map=METHODS, keywords=KEYWORDS
        )
    }
    assert found, "extraction found nothing"
    assert sorted(found - translated) == []
