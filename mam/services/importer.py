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
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import InvalidInput, MamError, NotAllowed
from mam.messages import catalogue
from mam.models import Asset, Episode, Programme, User, Version
from mam.probe import probe
from mam.services import metadata
from mam.services.edit_rights import require_create_programme, require_edit
from mam.services.ingest import IngestService, clean_text
from mam.services.subtitles import SubtitleService, decode_text, parse_subtitles
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
REQUIRED = ("file", "programme", "title")
KNOWN = {*REQUIRED, *metadata.FIELDS, "subtitle"}


@dataclass
class Row:
    line: int
    values: dict[str, str]
    path: Path | None = None
    sha256: str | None = None
    existing: Version | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    subtitle: Path | None = None


@dataclass
class Outcome:
    line: int
    file: str
    status: str  # imported, skipped, failed, would import, would skip
    detail: str = ""
    version_id: int | None = None


@dataclass
class Plan:
    rows: list[Row]
    problems: list[str]
    encoding: str

    def bad_lines(self) -> set[int]:
        """Return the line numbers that have a problem."""
        return {int(p.split(":")[0][5:]) for p in self.problems if p.startswith("line ")}

    def without_bad_rows(self) -> Plan:
        """Return a plan of only the rows without problems (watch mode imports those)."""
        bad = self.bad_lines()
        return Plan([r for r in self.rows if r.line not in bad], [], self.encoding)


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


def sha256_of(path: Path) -> str:
    """Return the SHA-256 of a file."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


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

    def plan(  # noqa: PLR0912, PLR0915 - one branch per check, reported together
        self,
        directory: Path,
        manifest: Path,
        *,
        on_file: Callable[[Row], None] | None = None,
        only: set[Path] | None = None,
        uploader: User | None = None,
    ) -> Plan:
        """Validate every row; hash and probe every file; return rows and all problems.

        With ``only`` (watch mode), rows whose file is not in it are left out unchecked.
        With ``uploader``, each row is also checked against what that user may change.
        """
        entries, encoding = read_manifest(manifest)
        if only is not None:
            entries = [
                (n, v) for n, v in entries if (directory / v.get("file", "")).resolve() in only
            ]
        problems: list[str] = []
        rows: list[Row] = []
        files: dict[Path, int] = {}
        titles: dict[tuple[str, str], int] = {}
        hashes: dict[str, int] = {}
        programmes = set(self.session.scalars(select(Programme.name)))
        root = directory.resolve()
        if not entries and only is None:
            problems.append(f"{manifest.name}: no rows")
        for line, values in entries:
            row = Row(line, values)
            where = f"line {line}"
            unknown = sorted(set(values) - KNOWN)
            if unknown:
                problems.append(f"{where}: unknown column(s) {', '.join(unknown)}")
            for name in REQUIRED:
                if not values.get(name):
                    problems.append(f"{where}: {name} is empty")
            try:
                row.meta = metadata.clean_metadata(
                    self.session, {k: v for k, v in values.items() if v}
                )
            except InvalidInput as exc:
                errors = exc.details.get("errors") or {"": exc.message}
                problems.extend(f"{where}: {m}" for m in errors.values())  # type: ignore[attr-defined]
            title = prog = ""
            try:
                title = clean_text(values.get("title", "") or "-", "title", 300)
                prog = clean_text(values.get("programme", "") or "-", "programme", 200)
            except InvalidInput as exc:
                problems.append(f"{where}: {exc.message}")
            if prog and prog != "-" and prog not in programmes and not self.create_programmes:
                problems.append(
                    f"{where}: unknown programme 《{prog}》 "
                    "(create it first, or use --create-programmes)"
                )
            if prog and prog != "-" and title and title != "-":
                problem = self._rights_problem(uploader, prog, title, row.meta)
                if problem:
                    problems.append(f"{where}: {problem}")
            if title and (prog, title) in titles:
                problems.append(
                    f"{where}: 《{prog}》 {title} is also on line {titles[(prog, title)]}"
                )
            titles.setdefault((prog, title), line)
            if values.get("file"):
                path = (root / values["file"]).resolve()
                if not path.is_relative_to(root):
                    problems.append(f"{where}: {values['file']} is outside {directory}")
                elif not path.is_file():
                    problems.append(f"{where}: file {values['file']} does not exist")
                elif path in files:
                    problems.append(f"{where}: file {values['file']} is also on line {files[path]}")
                else:
                    files[path] = line
                    row.path = path
                    self._check_file(row, problems, hashes, on_file)
            if values.get("subtitle"):
                sub = (root / values["subtitle"]).resolve()
                if not sub.is_relative_to(root) or not sub.is_file():
                    problems.append(f"{where}: subtitle file {values['subtitle']} does not exist")
                else:
                    row.subtitle = sub
                    try:
                        parse_subtitles(decode_text(sub.read_bytes(), sub.name)[0], sub.name)
                    except InvalidInput as exc:
                        problems.append(f"{where}: {exc.message}")
            rows.append(row)
        return Plan(rows, problems, encoding)

    def _rights_problem(
        self, uploader: User | None, programme: str, title: str, meta: dict[str, Any]
    ) -> str | None:
        """Return why ``uploader`` may not import this row, or None."""
        prog = self.session.scalar(select(Programme).where(Programme.name == programme))
        try:
            if prog is None:
                require_create_programme(uploader, programme)
                return None
            require_edit(self.session, uploader, prog)
            episode = self.session.scalar(
                select(Episode).where(Episode.programme_id == prog.id, Episode.title == title)
            )
            if episode is not None:
                extra = {k: v for k, v in meta.items() if k != "source"}
                metadata.require_change(self.session, uploader, episode, extra)
        except NotAllowed as exc:
            return exc.message
        return None

    def _check_file(
        self,
        row: Row,
        problems: list[str],
        hashes: dict[str, int],
        on_file: Callable[[Row], None] | None,
    ) -> None:
        if row.path is None:
            return
        where = f"line {row.line}"
        reason = looks_like_media(row.path.name)
        if reason:
            problems.append(f"{where}: {reason}")
            return
        row.sha256 = sha256_of(row.path)
        if row.sha256 in hashes:
            problems.append(f"{where}: same content as the file on line {hashes[row.sha256]}")
        hashes.setdefault(row.sha256, row.line)
        row.existing = self.session.scalar(
            select(Version).join(Asset).where(Asset.sha256 == row.sha256)
        )
        if row.existing is None:
            try:
                probe(row.path, display_name=row.values["file"])
            except MamError as exc:
                problems.append(f"{where}: {exc.message}")
        if on_file:
            on_file(row)

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
            detail = f"already in the library as version id {v.id}" if v else ""
            return Outcome(row.line, name, "skipped", detail, v.id if v else None)
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
            return Outcome(row.line, name, "failed", exc.message)
        return Outcome(
            row.line, name, "imported", f"version {result.version.number}", result.version.id
        )


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
