"""Chinese full-text search with facets, on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

Chinese has no spaces, so text is indexed as n-grams: every CJK character and every pair
of neighbouring CJK characters becomes a token, other words are lower-cased whole. A
query's CJK runs become their bigrams (a single character stays a unigram), all of which
must match; words match as prefixes. Two-character words such as 党建 or 农业 are then
one exact token lookup. Both databases get the same tokens from this module: PostgreSQL
stores them as a tsvector (``array_to_tsvector``, no parser or dictionary involved) in
``episode_search.document``; SQLite keeps them in an FTS5 table ``episode_fts`` (rowid =
episode id), a rebuildable mirror created on first use so the migrated schema stays plain.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ARRAY,
    Text,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Select

from mam.models import Episode, Version
from mam.models.catalogue import EpisodeDetail, EpisodeSearch, Topic, episode_topic
from mam.search_facets import FACET_COLUMNS, Facet, facets_by_query, facets_in_one_statement

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")
MAX_QUERY = 200
__all__ = ["SearchQuery", "SearchResult", "episode_topic", "index_episode", "search"]
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


@dataclass(frozen=True)
class QueryTerms:
    """What a query must match: exact tokens and word prefixes."""

    exact: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.exact or self.prefixes)

    def fts5(self) -> str:
        """Return an FTS5 MATCH expression."""
        parts = [f'"{t}"' for t in self.exact] + [f'"{p}"*' for p in self.prefixes]
        return " AND ".join(parts)

    def tsquery(self) -> str:
        """Return a tsquery literal (lexemes quoted, so no parser touches them)."""
        parts = [f"'{t}'" for t in self.exact] + [f"'{p}':*" for p in self.prefixes]
        return " & ".join(parts)


def query_terms(query: str) -> QueryTerms:
    """Turn what a user typed into the tokens every hit must contain."""
    exact: list[str] = []
    prefixes: list[str] = []
    for run in _runs(query[:MAX_QUERY]):
        if _IS_CJK.match(run):
            grams = [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
            exact.extend(g for g in grams if g not in exact)
        elif run not in prefixes:
            prefixes.append(run)
    return QueryTerms(tuple(exact), tuple(prefixes))


# ---- indexing -----------------------------------------------------------------------


def _ensure_fts(session: Session) -> None:
    """Create SQLite's FTS5 mirror if missing, filling it from the episodes."""
    engine = session.get_bind()
    if id(engine) in _FTS_READY:
        return
    exists = session.execute(
        text("SELECT 1 FROM sqlite_master WHERE type='table' AND name='episode_fts'")
    ).first()
    if not exists:
        session.execute(
            text("CREATE VIRTUAL TABLE episode_fts USING fts5(document, tokenize='unicode61')")
        )
        _FTS_READY.add(id(engine))
        ids = list(session.scalars(select(Episode.id)))
        index_episodes(session, ids)
    _FTS_READY.add(id(engine))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def episode_tokens(episode: Episode, detail: EpisodeDetail | None, topics: Iterable[str]) -> str:
    """Return the space-separated token document of an episode."""
    parts = [episode.title, episode.synopsis, episode.programme.name, *topics]
    if detail is not None:
        parts.extend(detail.keywords or [])
        parts.append(detail.producer)
    tokens: set[str] = set()
    for part in parts:
        tokens |= tokenize(part)
    return " ".join(sorted(tokens))


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
        for ep_id, name in session.execute(
            select(episode_topic.c.episode_id, Topic.name)
            .join(Topic, Topic.id == episode_topic.c.topic_id)
            .where(episode_topic.c.episode_id.in_(chunk))
        ):
            topics.setdefault(ep_id, []).append(name)
        rows = []
        for ep in episodes:
            detail = details.get(ep.id)
            made = detail.production_date if detail else None
            latest = ep.versions[-1].id if ep.versions else None
            rows.append(
                {
                    "episode_id": ep.id,
                    "doc": episode_tokens(ep, detail, topics.get(ep.id, [])),
                    "programme_id": ep.programme_id,
                    "source_type": ep.source_type.value,
                    "year": made.year if made else ep.created_at.year,
                    "latest_version_id": latest,
                    "sort_title": ep.title[:300],
                }
            )
        write_rows(session, rows)
        done += len(rows)
    return done


def write_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Replace the search rows given as dicts (``doc`` is the token document)."""
    if not rows:
        return
    _LIBRARY_FACETS.pop(id(session.get_bind()), None)
    ids = [r["episode_id"] for r in rows]
    session.execute(delete(EpisodeSearch).where(EpisodeSearch.episode_id.in_(ids)))
    values: dict[str, Any] = {k: bindparam(k) for k in rows[0] if k != "doc"}
    if _dialect(session) == "postgresql":
        doc = func.array_to_tsvector(bindparam("doc_tokens", type_=ARRAY(Text)))
        params = [{**r, "doc_tokens": r["doc"].split()} for r in rows]
        session.execute(insert(EpisodeSearch).values(document=doc, **values), params)
        return
    _ensure_fts(session)
    session.execute(insert(EpisodeSearch).values(document="", **values), rows)
    session.execute(
        text("DELETE FROM episode_fts WHERE rowid IN (SELECT value FROM json_each(:ids))"),
        {"ids": str(ids)},
    )
    session.execute(
        text("INSERT INTO episode_fts(rowid, document) VALUES (:episode_id, :doc)"),
        [{"episode_id": r["episode_id"], "doc": r["doc"]} for r in rows],
    )


def index_episode(session: Session, episode_id: int) -> None:
    """Refresh one episode's search row (call after changing what it says)."""
    session.flush()
    index_episodes(session, [episode_id])


def reindex_all(session: Session) -> int:
    """Rebuild every search row; return the number of episodes."""
    return index_episodes(session, list(session.scalars(select(Episode.id))))


# ---- searching ----------------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    """A search as the user asked it: text plus facet filters."""

    text: str = ""
    programme_id: int | None = None
    topic_id: int | None = None
    source: str | None = None
    state: str | None = None
    year: int | None = None
    page: int = 1
    per_page: int = 20


@dataclass
class SearchResult:
    total: int
    episodes: list[Episode]
    facets: dict[str, list[Facet]] = field(default_factory=dict)
    page: int = 1
    per_page: int = 20

    @property
    def pages(self) -> int:
        """Return the number of pages."""
        return max(1, -(-self.total // self.per_page))


def _filtered(session: Session, q: SearchQuery, *, columns: Sequence[Any] = ()) -> Select[Any]:
    """Return a select of ``columns`` (default: episode ids) with the match and filters."""
    stmt = select(*(columns or (EpisodeSearch.episode_id,))).select_from(EpisodeSearch)
    terms = query_terms(q.text)
    if terms:
        if _dialect(session) == "postgresql":
            stmt = stmt.where(
                EpisodeSearch.document.op("@@")(literal(terms.tsquery()).cast(TSQUERY))
            )
        else:
            _ensure_fts(session)
            match = text("SELECT rowid FROM episode_fts WHERE episode_fts MATCH :m").bindparams(
                m=terms.fts5()
            )
            stmt = stmt.where(EpisodeSearch.episode_id.in_(match))
    if q.programme_id is not None:
        stmt = stmt.where(EpisodeSearch.programme_id == q.programme_id)
    if q.source:
        stmt = stmt.where(EpisodeSearch.source_type == q.source)
    if q.year is not None:
        stmt = stmt.where(EpisodeSearch.year == q.year)
    if q.topic_id is not None:
        stmt = stmt.where(
            EpisodeSearch.episode_id.in_(
                select(episode_topic.c.episode_id).where(episode_topic.c.topic_id == q.topic_id)
            )
        )
    if q.state:
        stmt = stmt.join(Version, Version.id == EpisodeSearch.latest_version_id).where(
            Version.state == q.state
        )
    return stmt


def search(session: Session, q: SearchQuery, *, facets: bool = True) -> SearchResult:
    """Run a search: one page of episodes (newest first), the total and facet counts."""
    per_page = max(1, min(q.per_page, 100))
    page = max(1, q.page)
    base = _filtered(session, q).subquery()
    ids = list(
        session.scalars(
            select(base.c.episode_id)
            .order_by(base.c.episode_id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    found = {
        e.id: e
        for e in session.scalars(
            select(Episode)
            .where(Episode.id.in_(ids))
            .options(
                selectinload(Episode.programme),
                selectinload(Episode.versions).selectinload(Version.renditions),
            )
        )
    }
    result = SearchResult(
        total=0, episodes=[found[i] for i in ids if i in found], page=page, per_page=per_page
    )
    if page == 1 and len(ids) < per_page:
        result.total = len(ids)  # the page holds every hit: no counting needed
    elif not facets:
        result.total = session.scalar(select(func.count()).select_from(base)) or 0
    if facets and (ids or page > 1):
        result.total, result.facets = _cached_facets(session, q)
    return result


_LIBRARY_FACETS: dict[int, tuple[float, int, dict[str, list[Facet]]]] = {}
LIBRARY_FACETS_TTL = 30.0


def _cached_facets(session: Session, q: SearchQuery) -> tuple[int, dict[str, list[Facet]]]:
    """Return facets; those of the whole library (no text, no filter) are kept 30 s.

    Counting every episode is the one facet query that grows with the library; its
    answer changes slowly, and this process drops it whenever it indexes an episode.
    """
    unfiltered = q == SearchQuery(page=q.page, per_page=q.per_page)
    key = id(session.get_bind())
    if unfiltered:
        cached = _LIBRARY_FACETS.get(key)
        if cached and time.monotonic() - cached[0] < LIBRARY_FACETS_TTL:
            return cached[1], cached[2]
    if _dialect(session) == "postgresql":
        total, counts = facets_in_one_statement(
            session, _filtered(session, q, columns=FACET_COLUMNS)
        )
    else:
        total, counts = facets_by_query(
            session, lambda cols: _filtered(session, q, columns=cols), joined_version=bool(q.state)
        )
    if unfiltered:
        _LIBRARY_FACETS[key] = (time.monotonic(), total, counts)
    return total, counts
