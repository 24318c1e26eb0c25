"""Subtitle files: decode (UTF-8, BOM, GBK), validate SRT or WebVTT, store as WebVTT.

A subtitle row belongs to an episode and, optionally, to one of its versions; per (episode or
version, language) one row is current. ``subtitle_vtt`` / ``subtitle_cues`` are what other
areas read (players, HLS, packages, the worker's burn-in)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from mam.audit import AuditAction, ObjectType, record
from mam.errors import InvalidInput
from mam.messages import catalogue
from mam.models import Episode, Job, User, Version
from mam.models.catalogue import Subtitle, SubtitleCue
from mam.search_subtitles import index_cues
from mam.services.edit_rights import require_episode_change
from storage import ObjectNotFound, Storage

MAX_SUBTITLE_BYTES = 5 * 1000 * 1000
_TIME = r"(?:(\d{1,2}):)?(\d{2}):(\d{2})[.,](\d{3})"
_CUE_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(.*)$")


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Decode text from Chinese offices: UTF-8 (with or without BOM), UTF-16 with BOM, GBK.

    Return (text, encoding name); refuse anything else with a message that says so.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "UTF-8 with BOM"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GBK"
    except UnicodeDecodeError:
        raise InvalidInput(catalogue.SUBTITLE_ENCODING, params={"file": name}) from None


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def _stamp(value: float) -> str:
    ms = round(value * 1000)
    h, rest = divmod(ms, 3600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def parse_subtitles(text: str, name: str) -> list[Cue]:
    """Parse SRT or WebVTT text into cues; raise InvalidInput naming the bad line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    is_vtt = lines and lines[0].lstrip("\ufeff").startswith("WEBVTT")
    cues: list[Cue] = []
    i = 1 if is_vtt else 0
    while i < len(lines):
        line = lines[i]
        timing = _CUE_TIMING.match(line)
        if not timing:
            if line.strip() and not is_vtt and not line.strip().isdigit():
                raise InvalidInput(
                    catalogue.SUBTITLE_EXPECTED_CUE, params={"file": name, "line": i + 1}
                )
            i += 1
            continue
        g = timing.groups()
        start, end = _seconds(*g[0:4]), _seconds(*g[4:8])
        if end <= start:
            raise InvalidInput(catalogue.SUBTITLE_BACKWARDS, params={"file": name, "line": i + 1})
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip():
            body.append(lines[i])
            i += 1
        cues.append(Cue(start, end, "\n".join(body)))
    if not cues:
        raise InvalidInput(catalogue.SUBTITLE_EMPTY, params={"file": name})
    return cues


def to_vtt(cues: list[Cue]) -> str:
    """Render cues as a WebVTT document."""
    out = ["WEBVTT", ""]
    for cue in cues:
        out += [f"{_stamp(cue.start)} --> {_stamp(cue.end)}", cue.text, ""]
    return "\n".join(out)


LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
LANGUAGE_NAMES = {"zh": "中文", "en": "English", "bo": "བོད་ཡིག", "ug": "ئۇيغۇرچە", "mn": "Монгол"}


def normalise_language(value: str | None) -> str:
    """Return a BCP 47 language code in lower case (zh, en, ...); zh_CN and zh-Hans are zh."""
    code = (value or "zh").strip().lower().replace("_", "-") or "zh"
    if code.startswith("zh-"):
        code = "zh"
    if not LANGUAGE.match(code) or len(code) > 20:
        raise InvalidInput(catalogue.SUBTITLE_LANGUAGE, params={"language": (value or "")[:40]})
    return code


def language_name(code: str) -> str:
    """Return a language's name in that language (the label players show), else the code."""
    return LANGUAGE_NAMES.get(code.split("-", 1)[0], code)


def current_subtitles(session: Session, version: Version) -> list[Subtitle]:
    """Return the subtitles a version plays with: one row per language, zh first.

    A row of the version itself wins over a row of the episode (``version_id`` empty)."""
    rows = session.scalars(
        select(Subtitle)
        .where(
            Subtitle.episode_id == version.episode_id,
            Subtitle.is_current.is_(True),
            or_(Subtitle.version_id == version.id, Subtitle.version_id.is_(None)),
        )
        .order_by(Subtitle.id)
    ).all()
    chosen: dict[str, Subtitle] = {}
    for row in rows:
        held = chosen.get(row.language)
        if held is None or row.version_id is not None or held.version_id is None:
            chosen[row.language] = row
    return sorted(chosen.values(), key=lambda r: (r.language != "zh", r.language))


def current_subtitle(session: Session, version: Version, language: str) -> Subtitle | None:
    """Return the row ``version`` plays for ``language`` (None: no subtitles in it)."""
    return next((r for r in current_subtitles(session, version) if r.language == language), None)


def read_vtt(storage: Storage, row: Subtitle) -> str:
    """Return a stored subtitle row's WebVTT text."""
    with storage.open(row.storage_key) as fh:
        return fh.read().decode("utf-8")


def subtitle_vtt(
    session: Session, storage: Storage, version_id: int, language: str = "zh"
) -> str | None:
    """Return the WebVTT text ``version_id`` plays in ``language`` (None: there is none).

    The one read API for other areas (the worker's burn-in reads subtitles through it)."""
    version = session.get(Version, version_id)
    row = current_subtitle(session, version, language) if version else None
    return read_vtt(storage, row) if row else None


def subtitle_cues(
    session: Session, storage: Storage, version_id: int, language: str = "zh"
) -> list[Cue]:
    """Return the cues ``version_id`` plays in ``language`` (empty: no subtitles)."""
    text = subtitle_vtt(session, storage, version_id, language)
    return parse_subtitles(text, f"{language}.vtt") if text else []


def store_subtitles(
    session: Session,
    storage: Storage,
    episode: Episode,
    cues: list[Cue],
    *,
    language: str,
    filename: str,
    actor: User | None,
    version: Version | None = None,
) -> Subtitle:
    """Store ``cues`` as the current subtitles of (episode or version, language).

    The row it replaces stays, not current (its file too): each save is a revision."""
    previous = session.scalars(
        select(Subtitle)
        .where(
            Subtitle.episode_id == episode.id,
            Subtitle.language == language,
            Subtitle.is_current.is_(True),
            Subtitle.version_id == version.id
            if version is not None
            else Subtitle.version_id.is_(None),
        )
        .order_by(Subtitle.id)
    ).all()
    for old in previous:
        old.is_current = False
    row = Subtitle(
        episode_id=episode.id,
        version_id=version.id if version is not None else None,
        language=language,
        storage_key="",
        original_filename=filename[:255],
        cue_count=len(cues),
        uploaded_by_id=actor.id if actor else None,
        is_current=True,
        revision=max((r.revision for r in previous), default=0) + 1,
    )
    session.add(row)
    session.flush()
    row.storage_key = f"subtitles/{episode.id}/{row.id}.vtt"
    storage.put_bytes(row.storage_key, to_vtt(cues).encode("utf-8"), content_type="text/vtt")
    index_cues(session, row, cues, replaced=[r.id for r in previous])
    return row


def reindex_subtitles(session: Session, storage: Storage) -> int:
    """Rebuild the cue index from the current rows' files (rows stored before 0023_subtitles
    have none); return how many files were indexed. An unreadable file is skipped."""
    session.execute(delete(SubtitleCue))
    count = 0
    for row in session.scalars(select(Subtitle).where(Subtitle.is_current.is_(True))):
        try:
            cues = parse_subtitles(read_vtt(storage, row), row.original_filename)
        except (ObjectNotFound, InvalidInput, UnicodeDecodeError):
            continue
        index_cues(session, row, cues)
        count += 1
    return count


class SubtitleService:
    """Validate and attach subtitle files to episodes (or to one version of an episode).

    ``profiles`` is the profiles file (None: the shipped one): a language one of its
    profiles burns in gets the processed versions' renditions made again
    (``mam.services.subtitle_burn``)."""

    def __init__(self, session: Session, storage: Storage, profiles: Path | None = None) -> None:
        self.session = session
        self.storage = storage
        self.profiles = profiles
        self.reburned: list[Job] = []  # the ladder jobs the last attach queued

    def attach(
        self,
        episode: Episode,
        data: bytes,
        filename: str,
        language: str,
        actor: User | None,
        version: Version | None = None,
    ) -> Subtitle:
        """Store ``data`` (SRT or VTT) as WebVTT for ``episode`` (or its ``version``)."""
        require_episode_change(self.session, actor, episode, ["subtitles"])
        if not filename.lower().endswith((".srt", ".vtt")):
            raise InvalidInput(catalogue.SUBTITLE_KIND, params={"file": filename})
        if len(data) > MAX_SUBTITLE_BYTES:
            raise InvalidInput(
                catalogue.SUBTITLE_SIZE, params={"file": filename, "limit": MAX_SUBTITLE_BYTES}
            )
        text, _encoding = decode_text(data, filename)
        cues = parse_subtitles(text, filename)
        language = normalise_language(language)
        row = store_subtitles(
            self.session, self.storage, episode, cues,
            language=language, filename=filename, actor=actor, version=version,
        )  # fmt: skip
        record(
            self.session, AuditAction.ATTACH_SUBTITLE, actor, ObjectType.EPISODE, episode.id,
            details={"filename": row.original_filename, "cues": len(cues), "language": language,
                     "version": version.number if version else None},
        )  # fmt: skip
        # Imported here: the ladder service reads this module (current_subtitles).
        from mam.services.subtitle_burn import reburn_subtitles  # noqa: PLC0415

        self.reburned = reburn_subtitles(self.session, row, actor, self.profiles)
        self.session.flush()
        return row
