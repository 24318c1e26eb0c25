"""Search querying: what a person typed, the filters, ranking (newest first), facets.

A query's CJK runs become their bigrams (a single character stays a unigram), all of which
must match; words match as prefixes. Two-character words such as 党建 or 农业 are then one
exact token lookup. A word of three or more CJK characters must also appear as typed in
``episode_search.phrase_text``, so 乡村振兴 does not find a synopsis that has 乡村 in one
place and 振兴 in another. Filters are index tokens too (:mod:`mam.search_index`), so a
filter is an index intersection rather than a scan of every text hit.

Results are newest first; the index hands them over in that order, so a page and the
counts need only the newest hits (see :mod:`mam.search_facets` for counting and its limit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import column, func, literal, literal_column, or_, select, table, union_all
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.sql import Select

from mam.models import Episode, Version
from mam.models.catalogue import EpisodeSearch
from mam.search_facets import COUNT_LIMIT, Facet, count_hits, hit_columns, licence_state
from mam.search_index import _IS_CJK, _PG_FACET, _dialect, _ensure_fts, _facet_token, _runs

MAX_QUERY = 200
MAX_PAGE = 10_000  # no reader pages this far; bounds the OFFSET the database sees


@dataclass(frozen=True)
class QueryTerms:
    """What a query must match: exact tokens and word prefixes."""

    exact: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()  # CJK words of 3+ characters, to be found as typed

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
    phrases: list[str] = []
    for run in _runs(query[:MAX_QUERY]):
        if _IS_CJK.match(run):
            grams = [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
            exact.extend(g for g in grams if g not in exact)
            if len(run) > 2 and run not in phrases:
                phrases.append(run)
        elif run not in prefixes:
            prefixes.append(run)
    return QueryTerms(tuple(exact), tuple(prefixes), tuple(phrases))


@dataclass(frozen=True)
class SearchQuery:
    """A search as the user asked it: text plus facet filters."""

    text: str = ""
    programme_id: int | None = None
    topic_id: int | None = None
    source: str | None = None
    state: str | None = None
    year: int | None = None
    licence: str | None = None  # licence state: valid, expiring, expired, pending, none
    page: int = 1
    per_page: int = 20


@dataclass
class SearchResult:
    total: int
    episodes: list[Episode]
    facets: dict[str, list[Facet]] = field(default_factory=dict)
    page: int = 1
    per_page: int = 20
    total_exact: bool = True  # False: more than ``total`` hits, facets count the newest

    @property
    def pages(self) -> int:
        """Return the number of pages (past the counting limit: at least one more)."""
        pages = max(1, -(-self.total // self.per_page))
        return pages if self.total_exact else max(pages, self.page + 1)


_FTS = table("episode_fts", column("rowid"))


def _filter_values(q: SearchQuery) -> dict[str, Any]:
    """Return the facet filters of ``q`` that are set, by facet name."""
    values = {
        "programme": q.programme_id,
        "topic": q.topic_id,
        "source": q.source or None,
        "state": q.state or None,
        "year": q.year,
        "licence": q.licence or None,
    }
    return {k: v for k, v in values.items() if v is not None}


# PostgreSQL, words of 3+ characters: first look for the hits among this many newest rows.
RECENT_WINDOW = 20_000


def _matched(
    session: Session, q: SearchQuery, *, without: str | None = None, limit: int | None = None
) -> Select[Any]:
    """Return the hits of ``q`` (id and facet values), newest first, less one facet filter.

    On SQLite the FTS5 table drives the query in rowid order, so a ``LIMIT`` stops the
    scan early; on PostgreSQL the planner picks between a backward primary-key scan and the
    GIN index. A query word of three or more CJK characters must also occur as typed.
    ``limit`` is the number of hits the caller will take (see ``_newest_first``).
    """
    terms = query_terms(q.text)
    filters = _filter_values(q)
    filters.pop(without or "", None)
    state = filters.pop("state", None)
    licence = filters.pop("licence", None)  # by date, not an index token
    # Programme, source, year and topic are index tokens: the text index intersects them
    # with the words instead of the database reading every row the words match.
    tokens = [_facet_token(name, value) for name, value in filters.items()]
    key: Any = EpisodeSearch.episode_id
    tsquery = " & ".join(
        ([terms.tsquery()] if terms else []) + [f"'{_PG_FACET}{t}'" for t in tokens]
    )

    def narrowed(es: Any, stmt: Select[Any]) -> Select[Any]:
        if tsquery and _dialect(session) == "postgresql":
            stmt = stmt.where(es.document.op("@@")(literal(tsquery).cast(TSQUERY)))
        for word in terms.phrases:  # rows indexed before phrase_text existed have ""
            stmt = stmt.where(or_(es.phrase_text == "", es.phrase_text.contains(word)))
        if state is not None:
            stmt = stmt.where(es.state == state)
        if licence is not None:
            stmt = stmt.where(licence_state(es) == licence)
        return stmt

    if _dialect(session) == "postgresql":
        stmt = narrowed(EpisodeSearch, select(key.label("hit_id"), *hit_columns(EpisodeSearch)))
        stmt = stmt.order_by(key.desc())
        if terms.phrases and limit:
            return _newest_first(stmt, narrowed, limit, without or "all")
        return stmt
    stmt = select(key.label("hit_id"), *hit_columns(EpisodeSearch)).select_from(EpisodeSearch)
    if terms or tokens:
        _ensure_fts(session)
        match = ([f"document : ({terms.fts5()})"] if terms else []) + (
            ["facets : (" + " AND ".join(f'"{t}"' for t in tokens) + ")"] if tokens else []
        )
        key = _FTS.c.rowid
        stmt = (
            select(key.label("hit_id"), *hit_columns(EpisodeSearch))
            .select_from(_FTS)
            .join(EpisodeSearch, EpisodeSearch.episode_id == _FTS.c.rowid)
            .where(literal_column("episode_fts").op("MATCH")(" AND ".join(match)))
        )
    return narrowed(EpisodeSearch, stmt).order_by(key.desc())


def _newest_first(
    everywhere: Select[Any],
    narrowed: Callable[[Any, Select[Any]], Select[Any]],
    limit: int,
    name: str,
) -> Select[Any]:
    """Return ``everywhere``'s newest ``limit`` hits, looked for first among recent rows.

    PostgreSQL estimates a word's bigrams as independent, so for 乡村振兴 it expects a few
    dozen rows where there are thousands, and reads every one through the GIN index before
    sorting. The newest ``RECENT_WINDOW`` rows, read newest first, usually hold the first
    ``limit`` hits of a common word; only when they do not is the index query run (its
    one-time filter skips it otherwise), so a rare word pays one read of those rows in
    vain. Either way the answer is the newest ``limit`` hits.
    """
    recent = aliased(
        EpisodeSearch,
        select(EpisodeSearch)
        .order_by(EpisodeSearch.episode_id.desc())
        .limit(RECENT_WINDOW)
        .subquery(),
    )
    found_recently = (
        narrowed(recent, select(recent.episode_id.label("hit_id"), *hit_columns(recent)))
        .order_by(recent.episode_id.desc())
        .limit(limit)
        .cte(f"recent_{name}", nesting=True)
        .prefix_with("MATERIALIZED")
    )
    enough = select(func.count()).select_from(found_recently).scalar_subquery() >= limit
    older = everywhere.limit(limit).subquery()
    both = union_all(select(found_recently).where(enough), select(older).where(~enough)).subquery()
    return select(both).order_by(both.c.hit_id.desc())


def search(session: Session, q: SearchQuery, *, facets: bool = True) -> SearchResult:
    """Run a search: one page of episodes (newest first), the total and facet counts.

    Counting stops at ``COUNT_LIMIT`` hits: past it the total reads "more than" and the
    counts are those of the newest ``COUNT_LIMIT`` hits (``total_exact`` is False).
    """
    per_page = max(1, min(q.per_page, 100))
    page = max(1, min(q.page, MAX_PAGE))
    offset = (page - 1) * per_page
    counted = count_hits(
        session,
        lambda without, limit: _matched(session, q, without=without, limit=limit),
        active=set(_filter_values(q)),
        offset=offset,
        per_page=per_page,
        limit=COUNT_LIMIT,
        facets=facets,
    )
    ids = counted.page_ids
    if not counted.exact and offset + per_page > counted.total:  # past the counted hits
        ids = list(session.scalars(_matched(session, q).limit(per_page).offset(offset)))
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
    return SearchResult(
        total=counted.total,
        total_exact=counted.exact,
        episodes=[found[i] for i in ids if i in found],
        facets=counted.facets,
        page=page,
        per_page=per_page,
    )
