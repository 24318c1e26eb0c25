"""Subtitle files: decode (UTF-8, BOM, GBK), validate SRT or WebVTT, store as WebVTT."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mam.audit import AuditAction, ObjectType, record
from mam.errors import InvalidInput
from mam.messages import catalogue
from mam.models import Episode, User
from mam.models.catalogue import Subtitle
from mam.services.edit_rights import require_episode_change
from storage import Storage

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
            raise InvalidInput(
                catalogue.SUBTITLE_BACKWARDS, params={"file": name, "line": i + 1}
            )
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


class SubtitleService:
    """Validate and attach subtitle files to episodes."""

    def __init__(self, session: Session, storage: Storage) -> None:
        self.session = session
        self.storage = storage

    def attach(
        self, episode: Episode, data: bytes, filename: str, language: str, actor: User | None
    ) -> Subtitle:
        """Store ``data`` (SRT or VTT) as WebVTT for ``episode``; commit."""
        require_episode_change(self.session, actor, episode, ["subtitles"])
        if not filename.lower().endswith((".srt", ".vtt")):
            raise InvalidInput(catalogue.SUBTITLE_KIND, params={"file": filename})
        if len(data) > MAX_SUBTITLE_BYTES:
            raise InvalidInput(
                catalogue.SUBTITLE_SIZE, params={"file": filename, "limit": MAX_SUBTITLE_BYTES}
            )
        text, _encoding = decode_text(data, filename)
        cues = parse_subtitles(text, filename)
        language = (language or "zh").strip()[:50] or "zh"
        row = Subtitle(
            episode_id=episode.id,
            language=language,
            storage_key="",
            original_filename=filename[:255],
            cue_count=len(cues),
            uploaded_by_id=actor.id if actor else None,
        )
        self.session.add(row)
        self.session.flush()
        row.storage_key = f"subtitles/{episode.id}/{row.id}.vtt"
        self.storage.put_bytes(
            row.storage_key, to_vtt(cues).encode("utf-8"), content_type="text/vtt"
        )
        record(
            self.session, AuditAction.ATTACH_SUBTITLE, actor, ObjectType.EPISODE, episode.id,
            details={"filename": row.original_filename, "cues": len(cues)},
        )  # fmt: skip
        self.session.flush()
        return row
