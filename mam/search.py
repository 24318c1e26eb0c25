"""Chinese full-text search with facets, on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

Chinese has no spaces, so text is indexed as n-grams: every CJK character and every pair
of neighbouring CJK characters becomes a token, other words are lower-cased whole. A
query's CJK runs become their bigrams (a single character stays a unigram), all of which
must match; words match as prefixes. Two-character words such as 党建 or 农业 are then
one exact token lookup. A word of three or more CJK characters must also appear as typed
in ``episode_search.phrase_text`` (the searched fields, normalised), so 乡村振兴 does not
find a synopsis that has 乡村 in one place and 振兴 in another.

Both databases get the same tokens from this module: PostgreSQL stores them as a tsvector
(``array_to_tsvector``, no parser or dictionary involved) in ``episode_search.document``;
SQLite keeps them in an FTS5 table ``episode_fts`` (rowid = episode id), a rebuildable
mirror created on first use so the migrated schema stays plain. Programme, source, year
and topics are tokens too (the FTS5 ``facets`` column; ``§``-marked lexemes in the
tsvector), so a filter is an index intersection rather than a scan of every text hit. The
latest version's state is a column that a trigger on ``version`` keeps current.

Results are newest first; the index hands them over in that order, so a page and the
counts need only the newest hits (see ``mam.search_facets`` for counting and its limit).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ARRAY,
    Text,
    bindparam,
    column,
    delete,
    event,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.sql import Select

from mam.models import Episode, Version
from mam.models.catalogue import EpisodeDetail, EpisodeSearch, Topic, episode_topic
from mam.search_facets import COUNT_LIMIT, Facet, count_hits, hit_columns, licence_state

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")
MAX_QUERY = 200
MAX_PAGE = 10_000  # no reader pages this far; bounds the OFFSET the database sees
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


# ---- indexing -----------------------------------------------------------------------


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
