"""Chinese full-text search with facets, on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

Two halves: :mod:`mam.search_index` (what is written for an episode, and when: the n-gram
tokens, the FTS5 mirror, the hooks the catalogue services call) and :mod:`mam.search_query`
(parse what was typed, match, rank newest first, facets; counting in
:mod:`mam.search_facets`). This module keeps the names the rest of the code calls
(``search.index_episode``, ``search.search`` and so on), so callers need not know the split.
"""

from __future__ import annotations

from mam.models.catalogue import episode_topic
from mam.search_facets import COUNT_LIMIT, Facet
from mam.search_index import (
    episode_tokens,
    facet_tokens,
    index_episode,
    index_episodes,
    phrase_text,
    reindex_all,
    tokenize,
    write_rows,
)
from mam.search_query import (
    MAX_PAGE,
    MAX_QUERY,
    RECENT_WINDOW,
    QueryTerms,
    SearchQuery,
    SearchResult,
    query_terms,
    search,
)

__all__ = [
    "COUNT_LIMIT",
    "MAX_PAGE",
    "MAX_QUERY",
    "RECENT_WINDOW",
    "Facet",
    "QueryTerms",
    "SearchQuery",
    "SearchResult",
    "episode_tokens",
    "episode_topic",
    "facet_tokens",
    "index_episode",
    "index_episodes",
    "phrase_text",
    "query_terms",
    "reindex_all",
    "search",
    "tokenize",
    "write_rows",
]
