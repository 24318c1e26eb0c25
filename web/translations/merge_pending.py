"""Merge web/translations/pending/*.json ({"English msgid": "中文"}) into the zh_CN catalogue.

Run by ``make messages`` after extraction; prints msgids still lacking a translation.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
PO = HERE / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def main() -> int:
    """Fill empty translations from the pending files; report what is still missing."""
    pending: dict[str, str] = {}
    for path in sorted((HERE / "pending").glob("*.json")):
        pending.update(json.loads(path.read_text(encoding="utf-8")))
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="zh_Hans_CN")
    missing = []
    for message in catalog:
        if not message.id:
            continue
        plural = isinstance(message.id, tuple)
        key = message.id[0] if plural else message.id
        string = message.string
        current = string[0] if isinstance(string, tuple | list) else string
        if key in pending and not current:
            message.string = (pending[key],) if plural else pending[key]
        elif not current:
            missing.append(key)
    with PO.open("wb") as fh:
        write_po(fh, catalog, width=100)
    for key in missing:
        sys.stderr.write(f"untranslated: {key!r}\n")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
