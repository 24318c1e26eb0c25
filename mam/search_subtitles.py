"""Search in what is said: subtitle cues, found by a word, with the cue's time.

Each current subtitle row's cues are copied into ``subtitle_cue`` when the row is stored
(``index_cues``, called by ``mam.services.subtitles.store_subtitles``; the replaced row's
cues are dropped). A cue's ``search_text`` is its text NFKC-normalised, in lower case and
without white space, so a query word (Chinese has no spaces: 党建 inside 加强基层党建工作)
is a substring match (``LIKE``, the same on SQLite and PostgreSQL); a query of several
words (split at white space) needs all of them in one cue. So that the match is not a scan
of every cue, each pair of neighbouring CJK characters of a cue is a row of
``subtitle_cue_gram`` (primary key gram, cue): a query holding a CJK word of two or more
characters first looks up the cues holding one pair of its longest word, and only those
are matched with ``LIKE`` (a query of one CJK character or of other words only is a scan).

Kept apart from ``mam.search`` (episode metadata, n-gram full-text index): the catalogue
search shows these hits beside its own, so the two indexes meet only in the page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from mam.models import Episode, Programme, Version
from mam.models.catalogue import Subtitle, SubtitleCue, SubtitleCueGram

MAX_QUERY = 100
_SPACE = re.compile(r"\s+")
_CJK_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")


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


def bigrams(normalised: str) -> list[str]:
    """Return the pairs of neighbouring CJK characters in a normalised text, in order."""
    pairs = [run[i : i + 2] for run in _CJK_RUN.findall(normalised) for i in range(len(run) - 1)]
    return list(dict.fromkeys(pairs))


def index_cues(
    session: Session, row: Subtitle, cues: Iterable[TimedText], replaced: Iterable[int] = ()
) -> None:
    """Index the cues of a newly stored subtitle row; drop those of the rows it replaced."""
    old = list(replaced)
    if old:
        session.execute(delete(SubtitleCue).where(SubtitleCue.subtitle_id.in_(old)))
    added = [
        SubtitleCue(
            subtitle_id=row.id,
            episode_id=row.episode_id,
            start=cue.start,
            end=cue.end,
            text=cue.text[:2000],
            search_text=normalise(cue.text)[:2000],
        )
        for cue in cues
    ]
    session.add_all(added)
    session.flush()
    grams = [{"gram": g, "cue_id": c.id} for c in added for g in bigrams(c.search_text)]
    if grams:
        session.execute(insert(SubtitleCueGram), grams)


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
    conditions: list[ColumnElement[bool]] = [
        SubtitleCue.search_text.like(f"%{_escape(w)}%", escape="\\") for w in words
    ]
    stmt = select(
        SubtitleCue, Subtitle.version_id, Subtitle.language, Episode.title, Programme.name
    )
    pairs = bigrams(max(words, key=len))
    if pairs:  # start from the cues holding one pair of the longest word: LIKE on those only
        stmt = stmt.select_from(SubtitleCueGram).join(
            SubtitleCue, SubtitleCue.id == SubtitleCueGram.cue_id
        )
        conditions.append(SubtitleCueGram.gram == pairs[0])
    rows = session.execute(
        stmt.join(Subtitle, Subtitle.id == SubtitleCue.subtitle_id)
        .join(Episode, Episode.id == SubtitleCue.episode_id)
        .join(Programme, Programme.id == Episode.programme_id)
        .where(and_(*conditions), Subtitle.is_current.is_(True))
        .order_by(SubtitleCue.episode_id.desc(), SubtitleCue.start, SubtitleCue.id)
        .limit(limit * per_episode)
    ).all()
    newest: dict[int, int] = {}  # the newest version of each episode (one query for all)
    for newest_id, episode_id in session.execute(
        select(Version.id, Version.episode_id)
        .where(Version.episode_id.in_({row[0].episode_id for row in rows if row[1] is None}))
        .order_by(Version.number)
    ):
        newest[episode_id] = newest_id
    hits: list[CueHit] = []
    counts: dict[int, int] = {}
    for cue, own_version, language, title, programme in rows:
        if counts.get(cue.episode_id, 0) >= per_episode:
            continue
        counts[cue.episode_id] = counts.get(cue.episode_id, 0) + 1
        play = own_version if own_version is not None else newest.get(cue.episode_id)
        hits.append(CueHit(cue.episode_id, title, programme, play, language, cue.start, cue.text))
        if len(hits) >= limit:
            break
    return hits
