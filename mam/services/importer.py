"""Batch import of films described by a manifest (CSV in UTF-8/BOM/GBK, or JSON).

The whole manifest is checked before anything is ingested: every problem is reported with
its line number and nothing is imported while any remain. Files whose content (SHA-256) is
already in the library are skipped, so running an import twice is safe.

Manifest columns (English or Chinese header names): file/文件 (relative to the directory),
programme/栏目, title/标题 (required); number/集号, synopsis/简介, source/来源,
topics/主题, producer/制片, production_date/摄制日期, language/语言,
rights_holder/版权方, rights_expiry/版权到期, keywords/关键词, subtitle/字幕 (optional).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import InvalidInput, MamError
from mam.i18n import N_, render
from mam.messages import catalogue
from mam.models import Programme, User
from mam.services import metadata
from mam.services.import_rules import REQUIRED, RULES, Checks, Problem, Row
from mam.services.ingest import IngestService
from mam.services.subtitles import SubtitleService, decode_text
from mam.services.uploads import looks_like_media
from mam.uow import checkpoint
from storage import Storage

ALIASES = {
    "文件": "file",
    "文件名": "file",
    "栏目": "programme",
    "节目": "programme",
    "program": "programme",
    "标题": "title",
    "片名": "title",
    "集号": "number",
    "集数": "number",
    "简介": "synopsis",
    "来源": "source",
    "主题": "topics",
    "制片": "producer",
    "编导": "producer",
    "摄制日期": "production_date",
    "制作日期": "production_date",
    "语言": "language",
    "方言": "language",
    "版权方": "rights_holder",
    "版权到期": "rights_expiry",
    "关键词": "keywords",
    "字幕": "subtitle",
}

ALREADY = N_("already in the library as version id %(id)s")
IMPORTED_AS = N_("version %(number)s")
NO_ROWS = N_("%(name)s: no rows")


@dataclass
class Outcome:
    line: int
    file: str
    status: str  # imported, skipped, failed, would import, would skip
    detail: str = ""  # in English (logs, JSON)
    version_id: int | None = None
    # The detail as a message (template + parameters), translated where it is shown.
    said: tuple[str, Mapping[str, object]] | None = None


@dataclass
class Plan:
    rows: list[Row]
    problems: list[str]  # in English, "line N: …" (the dry-run report)
    encoding: str
    findings: list[Problem] = field(default_factory=list)  # the same, as codes and params
    manifest: str = ""

    def shown(self, translate: Callable[[str], str]) -> list[str]:
        """Return the problems as shown to a person, in the language of ``translate``."""
        if self.problems and not self.findings:  # the manifest has no rows
            return [render(NO_ROWS, {"name": self.manifest}, translate)]
        return [p.render(translate) for p in self.findings]

    def bad_lines(self) -> set[int]:
        """Return the line numbers that have a problem."""
        return {p.line for p in self.findings}

    def without_bad_rows(self) -> Plan:
        """Return a plan of only the rows without problems (watch mode imports those)."""
        bad = self.bad_lines()
        return Plan([r for r in self.rows if r.line not in bad], [], self.encoding, [])


def read_manifest(path: Path) -> tuple[list[tuple[int, dict[str, str]]], str]:
    """Return (line number, row) pairs and the detected encoding."""
    text, encoding = decode_text(path.read_bytes(), path.name)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                catalogue.MANIFEST_JSON,
                params={"file": path.name, "line": exc.lineno},
                detail=exc.msg,
            ) from None
        items = data.get("episodes") if isinstance(data, dict) else data
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise InvalidInput(catalogue.MANIFEST_SHAPE, params={"file": path.name})
        return [(n, _normalise(i)) for n, i in enumerate(items, start=1)], encoding
    dialect = (
        "excel-tab"
        if text.split("\n", 1)[0].count("\t") > text.split("\n", 1)[0].count(",")
        else "excel"
    )
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    rows = [
        (reader.line_num, _normalise(r))
        for r in reader
        if any((v or "").strip() for v in r.values() if isinstance(v, str))
    ]
    header = [
        ALIASES.get((h or "").strip(), (h or "").strip().lower()) for h in reader.fieldnames or []
    ]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidInput(
            catalogue.MANIFEST_COLUMNS,
            params={"file": path.name, "missing": ", ".join(missing), "found": ", ".join(header)},
        )
    return rows, encoding


def _normalise(raw: dict[Any, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in raw.items():
        if key is None:
            continue
        name = ALIASES.get(str(key).strip(), str(key).strip().lower())
        text = ",".join(map(str, value)) if isinstance(value, list) else value
        out[name] = "" if text is None else str(text).strip()
    return out


class Importer:
    """Check a manifest against a directory and the library, then ingest what is new."""

    def __init__(
        self,
        session: Session,
        storage: Storage,
        *,
        create_programmes: bool = False,
    ) -> None:
        self.session = session
        self.storage = storage
        self.create_programmes = create_programmes

    def plan(
        self,
        directory: Path,
        manifest: Path,
        *,
        on_file: Callable[[Row], None] | None = None,
        only: set[Path] | None = None,
        uploader: User | None = None,
    ) -> Plan:
        """Validate every row; hash and probe every file; return rows and all problems.

        Each line goes through every rule of :data:`~mam.services.import_rules.RULES`.
        With ``only`` (watch mode), rows whose file is not in it are left out unchecked.
        With ``uploader``, each row is also checked against what that user may change.
        """
        entries, encoding = read_manifest(manifest)
        if only is not None:
            entries = [
                (n, v) for n, v in entries if (directory / v.get("file", "")).resolve() in only
            ]
        checks = Checks(
            self.session,
            directory.resolve(),
            directory,
            self.create_programmes,
            uploader,
            on_file,
            programmes=set(self.session.scalars(select(Programme.name))),
        )
        findings: list[Problem] = []
        rows = [Row(line, values) for line, values in entries]
        for row in rows:
            for rule in RULES:
                findings.extend(rule(checks, row))
        problems = [str(p) for p in findings]
        if not entries and only is None:
            problems.insert(0, render(NO_ROWS, {"name": manifest.name}, str))
        return Plan(rows, problems, encoding, findings, manifest.name)

    def run(
        self, plan: Plan, uploader: User | None, *, on_row: Callable[[Outcome], None] | None = None
    ) -> list[Outcome]:
        """Ingest the planned rows (the plan must have no problems)."""
        if plan.problems:
            raise InvalidInput(catalogue.MANIFEST_PROBLEMS)
        ingest = IngestService(self.session, self.storage)
        outcomes: list[Outcome] = []
        for row in plan.rows:
            outcome = self._one(ingest, row, uploader)
            outcomes.append(outcome)
            if on_row:
                on_row(outcome)
        return outcomes

    def _one(self, ingest: IngestService, row: Row, uploader: User | None) -> Outcome:
        name = row.values["file"]
        if row.existing is not None or row.path is None:
            v = row.existing
            said = (ALREADY, {"id": v.id}) if v else None
            detail = render(*said, str) if said else ""
            return Outcome(row.line, name, "skipped", detail, v.id if v else None, said)
        try:
            result = ingest.ingest_file(
                row.path,
                programme=row.values["programme"],
                title=row.values["title"],
                source=row.meta.get("source", "self"),
                uploader=uploader,
                create_programme=self.create_programmes,
            )
            episode = result.version.episode
            extra = dict(row.meta)
            if not result.new_episode:
                extra.pop("source", None)
            metadata.apply_metadata(self.session, episode, extra, uploader)
            if row.subtitle is not None:
                sub = row.subtitle
                SubtitleService(self.session, self.storage).attach(
                    episode, sub.read_bytes(), sub.name, row.meta.get("language") or "zh", uploader
                )
            # Each line stands on its own: a later failure keeps what is imported (running
            # the import again skips it), and its processing is sent now.
            checkpoint(self.session, "each manifest line is imported on its own")
        except MamError as exc:
            self.session.rollback()
            return Outcome(row.line, name, "failed", exc.message, said=(exc.template, exc.params))
        said = (IMPORTED_AS, {"number": result.version.number})
        return Outcome(row.line, name, "imported", render(*said, str), result.version.id, said)


def stable_files(directory: Path, seen: dict[Path, tuple[int, float]]) -> Iterator[Path]:
    """Yield media files whose size and mtime did not change since the previous call."""
    current: dict[Path, tuple[int, float]] = {}
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or looks_like_media(path.name):
            continue
        st = path.stat()
        current[path] = (st.st_size, st.st_mtime)
    for path, sig in current.items():
        if seen.get(path) == sig:
            yield path
    seen.clear()
    seen.update(current)
