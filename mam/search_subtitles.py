"""Search in what is said: subtitle cues, found by a word, with the cue's time.

Each current subtitle row's cues are copied into ``subtitle_cue`` when the row is stored
(``index_cues``, called by ``mam.services.subtitles.store_subtitles``; the replaced row's
cues are dropped). A cue's ``search_text`` is its text NFKC-normalised, in lower case and
without white space, so a query word (Chinese has no spaces: 党建 inside 加强基层党建工作)
is a plain substring match (``LIKE``, the same on SQLite and PostgreSQL); a query of several
words (split at white space) needs all of them in one cue.

Kept apart from ``mam.search`` (episode metadata, n-gram full-text index): the catalogue
search shows these hits beside its own, so the two indexes meet only in the page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session

from mam.models import Episode, Programme, Version
from mam.models.catalogue import Subtitle, SubtitleCue

MAX_QUERY = 100
_SPACE = re.compile(r"\s+")


class TimedText(Protocol):
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def text(self) -> str: ...


def normalise(value: str) -> str:
    """Return ``value`` as cues are searched: NFKC, lower case, no white space."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", value or "").lower())


def index_cues(
    session: Session, row: Subtitle, cues: Iterable[TimedText], replaced: Iterable[int] = ()
) -> None:
    """Index the cues of a newly stored subtitle row; drop those of the rows it replaced."""
    old = list(replaced)
    if old:
        session.execute(delete(SubtitleCue).where(SubtitleCue.subtitle_id.in_(old)))
    session.add_all(
        SubtitleCue(
            subtitle_id=row.id,
            episode_id=row.episode_id,
            start=cue.start,
            end=cue.end,
            text=cue.text[:2000],
            search_text=normalise(cue.text)[:2000],
        )
        for cue in cues
    )
    session.flush()


@dataclass(frozen=True)
class CueHit:
    episode_id: int
    episode_title: str
    programme: str
    version_id: int | None  # the version to play it in (the row's, else the newest)
    language: str
    start: float
    text: str


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_cues(
    session: Session, query: str, *, limit: int = 50, per_episode: int = 3
) -> list[CueHit]:
    """Return the cues that contain every word of ``query``: by episode, in film order."""
    words = [normalise(w) for w in _SPACE.split((query or "")[:MAX_QUERY]) if normalise(w)]
    if not words:
        return []
    conditions = [SubtitleCue.search_text.like(f"%{_escape(w)}%", escape="\\") for w in words]
    rows = session.execute(
        select(SubtitleCue, Subtitle.version_id, Subtitle.language, Episode.title, Programme.name)
        .join(Subtitle, Subtitle.id == SubtitleCue.subtitle_id)
        .join(Episode, Episode.id == SubtitleCue.episode_id)
        .join(Programme, Programme.id == Episode.programme_id)
        .where(and_(*conditions), Subtitle.is_current.is_(True))
        .order_by(SubtitleCue.episode_id.desc(), SubtitleCue.start, SubtitleCue.id)
        .limit(limit * per_episode)
    ).all()
    newest: dict[int, int | None] = {}
    hits: list[CueHit] = []
    counts: dict[int, int] = {}
    for cue, own_version, language, title, programme in rows:
        if counts.get(cue.episode_id, 0) >= per_episode:
            continue
        counts[cue.episode_id] = counts.get(cue.episode_id, 0) + 1
        version_id = own_version
        if version_id is None:
            if cue.episode_id not in newest:
                newest[cue.episode_id] = session.scalar(
                    select(Version.id)
                    .where(Version.episode_id == cue.episode_id)
                    .order_by(Version.number.desc())
                    .limit(1)
                )
            version_id = newest[cue.episode_id]
        hits.append(
            CueHit(cue.episode_id, title, programme, version_id, language, cue.start, cue.text)
        )
        if len(hits) >= limit:
            break
    return hits
