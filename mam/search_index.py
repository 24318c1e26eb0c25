"""Search indexing: what is written for each episode, and when.

Chinese has no spaces, so text is indexed as n-grams: every CJK character and every pair
of neighbouring CJK characters becomes a token, other words are lower-cased whole
(:func:`tokenize`). Both databases get the same tokens: PostgreSQL stores them as a
tsvector (``array_to_tsvector``, no parser or dictionary involved) in
``episode_search.document``; SQLite keeps them in an FTS5 table ``episode_fts`` (rowid =
episode id), a rebuildable mirror created on first use so the migrated schema stays plain.
Programme, source, year and topics are tokens too (the FTS5 ``facets`` column; ``§``-marked
lexemes in the tsvector). ``episode_search.phrase_text`` keeps the searched fields
normalised, for words of three or more characters.

When: the catalogue services call :func:`index_episode` / :func:`index_episodes` in the
same transaction as the change (ingest, metadata edits, topic changes); ``mam reindex``
calls :func:`reindex_all`. The latest version's state is kept current by a trigger on
``version``. Querying lives in :mod:`mam.search_query`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ARRAY, Text, bindparam, delete, event, func, insert, select, text
from sqlalchemy.orm import Session, selectinload

from mam.models import Episode
from mam.models.catalogue import EpisodeDetail, EpisodeSearch, Topic, episode_topic

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")
_FTS_READY: set[int] = set()  # engines whose FTS5 mirror is known to exist


def _runs(value: str) -> list[str]:
    return _RUN.findall(unicodedata.normalize("NFKC", value or "").lower())


def tokenize(value: str) -> set[str]:
    """Return the index tokens of ``value``: CJK unigrams and bigrams, whole other words."""
    tokens: set[str] = set()
    for run in _runs(value):
        if _IS_CJK.match(run):
            tokens.update(run)
            tokens.update(run[i : i + 2] for i in range(len(run) - 1))
        else:
            tokens.add(run)
    return tokens


def _ensure_fts(session: Session) -> None:
    """Create SQLite's FTS5 mirror if missing, filling it from the episodes."""
    engine = session.get_bind()
    if id(engine) in _FTS_READY:
        return
    schema = session.scalar(
        text("SELECT sql FROM sqlite_master WHERE type='table' AND name='episode_fts'")
    )
    if schema and "facets" not in schema:  # made before facet tokens: rebuild it
        session.execute(text("DROP TABLE episode_fts"))
        schema = None
    if schema:
        _FTS_READY.add(id(engine))
        return
    session.execute(
        text("CREATE VIRTUAL TABLE episode_fts USING fts5(document, facets, tokenize='unicode61')")
    )
    _FTS_READY.add(id(engine))  # for the index_episodes below; taken back if rolled back
    event.listen(session, "after_rollback", lambda _s: _FTS_READY.discard(id(engine)), once=True)
    index_episodes(session, list(session.scalars(select(Episode.id))))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _searched_fields(
    episode: Episode, detail: EpisodeDetail | None, topics: Iterable[str]
) -> list[str]:
    parts = [episode.title, episode.synopsis, episode.programme.name, *topics]
    if detail is not None:
        parts.extend(detail.keywords or [])
        parts.append(detail.producer)
    return [p for p in parts if p]


def episode_tokens(episode: Episode, detail: EpisodeDetail | None, topics: Iterable[str]) -> str:
    """Return the space-separated token document of an episode."""
    tokens: set[str] = set()
    for part in _searched_fields(episode, detail, topics):
        tokens |= tokenize(part)
    return " ".join(sorted(tokens))


def phrase_text(episode: Episode, detail: EpisodeDetail | None, topics: Iterable[str]) -> str:
    """Return the searched fields normalised like queries, one per line."""
    return "\n".join(
        unicodedata.normalize("NFKC", p).lower() for p in _searched_fields(episode, detail, topics)
    )


# PostgreSQL keeps facet tokens in the same tsvector, marked by a character no query
# token contains (queries are split on it), so a typed prefix never reaches them.
_PG_FACET = "§"


def _facet_token(facet: str, value: object) -> str:
    """Return the index token of one facet value: ``p12``, ``sself``, ``y2023``, ``t3``."""
    return facet[0] + re.sub(r"\W|_", "", str(value))


def facet_tokens(programme_id: int, source: str, year: int | None, topics: Iterable[int]) -> str:
    """Return the index tokens of an episode's facet values (filters match on them)."""
    values = [("programme", programme_id), ("source", source), ("year", year)]
    values += [("topic", t) for t in topics]
    return " ".join(_facet_token(f, v) for f, v in values if v is not None)


def index_episodes(session: Session, episode_ids: Sequence[int]) -> int:
    """(Re)build the search rows of ``episode_ids``; return how many were written."""
    dialect = _dialect(session)
    if dialect == "sqlite":
        _ensure_fts(session)
    done = 0
    for start in range(0, len(episode_ids), 500):
        chunk = list(episode_ids[start : start + 500])
        episodes = session.scalars(
            select(Episode)
            .where(Episode.id.in_(chunk))
            .options(selectinload(Episode.programme), selectinload(Episode.versions))
        ).all()
        details = {
            d.episode_id: d
            for d in session.scalars(
                select(EpisodeDetail).where(EpisodeDetail.episode_id.in_(chunk))
            )
        }
        topics: dict[int, list[str]] = {}
        topic_ids: dict[int, list[int]] = {}
        for ep_id, topic_id, name in session.execute(
            select(episode_topic.c.episode_id, Topic.id, Topic.name)
            .join(Topic, Topic.id == episode_topic.c.topic_id)
            .where(episode_topic.c.episode_id.in_(chunk))
        ):
            topics.setdefault(ep_id, []).append(name)
            topic_ids.setdefault(ep_id, []).append(topic_id)
        rows = []
        for ep in episodes:
            detail = details.get(ep.id)
            made = detail.production_date if detail else None
            latest = ep.versions[-1] if ep.versions else None
            year = made.year if made else ep.created_at.year
            rows.append(
                {
                    "episode_id": ep.id,
                    "facets": facet_tokens(
                        ep.programme_id, ep.source_type.value, year, topic_ids.get(ep.id, [])
                    ),
                    "doc": episode_tokens(ep, detail, topics.get(ep.id, [])),
                    "phrase_text": phrase_text(ep, detail, topics.get(ep.id, [])),
                    "programme_id": ep.programme_id,
                    "source_type": ep.source_type.value,
                    "year": year,
                    "latest_version_id": latest.id if latest else None,
                    "state": latest.state.value if latest else None,
                    "sort_title": ep.title[:300],
                }
            )
        write_rows(session, rows)
        done += len(rows)
    return done


def write_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Replace the search rows given as dicts.

    ``doc`` is the token document, ``facets`` the facet tokens (see ``facet_tokens``).
    """
    if not rows:
        return
    ids = [r["episode_id"] for r in rows]
    session.execute(delete(EpisodeSearch).where(EpisodeSearch.episode_id.in_(ids)))
    values: dict[str, Any] = {k: bindparam(k) for k in rows[0] if k not in ("doc", "facets")}
    if _dialect(session) == "postgresql":
        doc = func.array_to_tsvector(bindparam("doc_tokens", type_=ARRAY(Text)))
        params = [
            {**r, "doc_tokens": r["doc"].split() + [_PG_FACET + t for t in r["facets"].split()]}
            for r in rows
        ]
        session.execute(insert(EpisodeSearch).values(document=doc, **values), params)
        return
    _ensure_fts(session)
    session.execute(insert(EpisodeSearch).values(document="", **values), rows)
    session.execute(
        text("DELETE FROM episode_fts WHERE rowid IN (SELECT value FROM json_each(:ids))"),
        {"ids": str(ids)},
    )
    session.execute(
        text("INSERT INTO episode_fts(rowid, document, facets) VALUES (:id, :doc, :facets)"),
        [{"id": r["episode_id"], "doc": r["doc"], "facets": r["facets"]} for r in rows],
    )


def index_episode(session: Session, episode_id: int) -> None:
    """Refresh one episode's search row (call after changing what it says)."""
    session.flush()
    index_episodes(session, [episode_id])


def reindex_all(session: Session) -> int:
    """Rebuild every search row; return the number of episodes."""
    return index_episodes(session, list(session.scalars(select(Episode.id))))
