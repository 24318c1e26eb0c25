"""The checks of a batch-import manifest: one small rule per thing that can be wrong.

``RULES`` is the ordered list :meth:`mam.services.importer.Importer.plan` runs on every line;
each rule looks at one :class:`Row` (and what earlier lines left in the shared
:class:`Checks`) and yields its :class:`Problem` s, each a registered message code with its
parameters. The plan reports them all together, line by line, as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam import i18n
from mam.errors import InvalidInput, MamError, NotAllowed
from mam.i18n import N_
from mam.messages import Message
from mam.messages import catalogue as msg
from mam.messages import media as media_msg
from mam.models import Asset, Episode, Programme, User, Version
from mam.probe import probe
from mam.services import metadata
from mam.services.edit_rights import require_create_programme, require_edit
from mam.services.ingest import clean_text
from mam.services.subtitles import decode_text, parse_subtitles
from mam.services.uploads import not_media_kind

REQUIRED = ("file", "programme", "title")
LINE = N_("line %(line)s: %(text)s")
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
    title: str = ""  # cleaned by the names rule ("-" when the cell was empty)
    programme: str = ""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one line: a message code, its parameters, the English text."""

    line: int
    said: Message
    params: Mapping[str, object]

    @classmethod
    def of(cls, line: int, exc: MamError) -> Problem:
        """Return the problem a domain refusal names (its own code and parameters)."""
        return cls(line, exc.said, {**exc.params, **({"detail": exc.detail} if exc.detail else {})})

    def __str__(self) -> str:
        return self.render(str)

    def render(self, translate: Callable[[str], str]) -> str:
        """Return the problem as shown to a person, in the language of ``translate``."""
        text = self.said.render({k: v for k, v in self.params.items() if k != "detail"}, translate)
        detail = self.params.get("detail")
        line = i18n.render(LINE, {"line": self.line, "text": text}, translate)
        return line + (f" ({detail})" if detail else "")


@dataclass
class Checks:
    """What the rules share while one manifest is checked: the library and earlier lines."""

    session: Session
    root: Path
    directory: Path
    create_programmes: bool
    uploader: User | None
    on_file: Callable[[Row], None] | None = None
    programmes: set[str] = field(default_factory=set)
    titles: dict[tuple[str, str], int] = field(default_factory=dict)
    files: dict[Path, int] = field(default_factory=dict)
    hashes: dict[str, int] = field(default_factory=dict)


Rule = Callable[[Checks, Row], Iterator[Problem]]


def sha256_of(path: Path) -> str:
    """Return the SHA-256 of a file."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def known_columns(c: Checks, row: Row) -> Iterator[Problem]:
    unknown = sorted(set(row.values) - KNOWN)
    if unknown:
        yield Problem(row.line, msg.IMPORT_UNKNOWN_COLUMNS, {"columns": ", ".join(unknown)})


def required_cells(c: Checks, row: Row) -> Iterator[Problem]:
    for name in REQUIRED:
        if not row.values.get(name):
            yield Problem(row.line, msg.IMPORT_EMPTY_CELL, {"column": name})


def metadata_cells(c: Checks, row: Row) -> Iterator[Problem]:
    try:
        row.meta = metadata.clean_metadata(c.session, {k: v for k, v in row.values.items() if v})
    except InvalidInput as exc:
        said = exc.params.get("problems")
        if not isinstance(said, list):
            yield Problem.of(row.line, exc)
            return
        for one in said:  # each field's own refusal, by its own code
            yield Problem(row.line, Message(one["code"], one["template"]), one["params"])


def names(c: Checks, row: Row) -> Iterator[Problem]:
    try:
        row.title = clean_text(row.values.get("title", "") or "-", "title", 300)
        row.programme = clean_text(row.values.get("programme", "") or "-", "programme", 200)
    except InvalidInput as exc:
        yield Problem.of(row.line, exc)


def programme_exists(c: Checks, row: Row) -> Iterator[Problem]:
    prog = row.programme
    if prog and prog != "-" and prog not in c.programmes and not c.create_programmes:
        yield Problem(row.line, msg.IMPORT_PROGRAMME_UNKNOWN, {"programme": prog})


def uploader_may(c: Checks, row: Row) -> Iterator[Problem]:
    """The uploader may create the programme, edit it and change the episode's metadata."""
    if not (row.programme and row.programme != "-" and row.title and row.title != "-"):
        return
    prog = c.session.scalar(select(Programme).where(Programme.name == row.programme))
    try:
        if prog is None:
            require_create_programme(c.uploader, row.programme)
            return
        require_edit(c.session, c.uploader, prog)
        episode = c.session.scalar(
            select(Episode).where(Episode.programme_id == prog.id, Episode.title == row.title)
        )
        if episode is not None:
            extra = {k: v for k, v in row.meta.items() if k != "source"}
            metadata.require_change(c.session, c.uploader, episode, extra)
    except NotAllowed as exc:
        yield Problem.of(row.line, exc)


def title_once(c: Checks, row: Row) -> Iterator[Problem]:
    key = (row.programme, row.title)
    if row.title and key in c.titles:
        yield Problem(
            row.line,
            msg.IMPORT_TITLE_TWICE,
            {"programme": row.programme, "title": row.title, "other": c.titles[key]},
        )
    c.titles.setdefault(key, row.line)


def media_file(c: Checks, row: Row) -> Iterator[Problem]:
    """The file is inside the folder, exists, is named once, is media and is readable."""
    name = row.values.get("file")
    if not name:
        return
    path = (c.root / name).resolve()
    if not path.is_relative_to(c.root):
        yield Problem(row.line, msg.IMPORT_OUTSIDE, {"file": name, "folder": str(c.directory)})
    elif not path.is_file():
        yield Problem(row.line, msg.IMPORT_FILE_MISSING, {"file": name})
    elif path in c.files:
        yield Problem(row.line, msg.IMPORT_FILE_TWICE, {"file": name, "other": c.files[path]})
    else:
        c.files[path] = row.line
        row.path = path
        yield from _media_content(c, row, path)


def _media_content(c: Checks, row: Row, path: Path) -> Iterator[Problem]:
    kind = not_media_kind(path.name, "")
    if kind is not None:
        yield Problem(row.line, media_msg.NOT_MEDIA, {"file": path.name, "kind": kind})
        return
    row.sha256 = sha256_of(path)
    if row.sha256 in c.hashes:
        yield Problem(row.line, msg.IMPORT_SAME_CONTENT, {"other": c.hashes[row.sha256]})
    c.hashes.setdefault(row.sha256, row.line)
    row.existing = c.session.scalar(select(Version).join(Asset).where(Asset.sha256 == row.sha256))
    if row.existing is None:
        try:
            probe(path, display_name=row.values["file"])
        except MamError as exc:
            yield Problem.of(row.line, exc)
    if c.on_file:
        c.on_file(row)


def subtitle_file(c: Checks, row: Row) -> Iterator[Problem]:
    name = row.values.get("subtitle")
    if not name:
        return
    sub = (c.root / name).resolve()
    if not sub.is_relative_to(c.root) or not sub.is_file():
        yield Problem(row.line, msg.IMPORT_SUBTITLE_MISSING, {"file": name})
        return
    row.subtitle = sub
    try:
        parse_subtitles(decode_text(sub.read_bytes(), sub.name)[0], sub.name)
    except InvalidInput as exc:
        yield Problem.of(row.line, exc)


# In the order the problems of one line are listed (later rules read what earlier ones set).
RULES: tuple[Rule, ...] = (
    known_columns,
    required_cells,
    metadata_cells,
    names,
    programme_exists,
    uploader_may,
    title_once,
    media_file,
    subtitle_file,
)
