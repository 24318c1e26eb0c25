from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mam import migrate, search, search_query
from mam.db import Database
from mam.models import SourceType, VersionState
from mam.models.catalogue import EpisodeDetail, Topic
from mam.search import SearchQuery, query_terms, tokenize
from tests import factories


@pytest.fixture
def db_session(database_url: str) -> Iterator[Session]:
    db = Database(database_url)
    with db.session() as s:
        yield s
    db.dispose()


def add(
    s: Session,
    title: str,
    *,
    programme: str = "时代风采",
    synopsis: str = "",
    keywords: tuple[str, ...] = (),
    topics: tuple[str, ...] = (),
    source: SourceType = SourceType.SELF,
    made: date | None = None,
    state: VersionState = VersionState.READY,
) -> int:
    v = factories.version(s, state, programme=programme, title=title)
    ep = v.episode
    ep.synopsis = synopsis
    ep.source_type = source
    s.add(EpisodeDetail(episode=ep, keywords=list(keywords), production_date=made))
    for name in topics:
        topic = s.scalar(select(Topic).where(Topic.name == name))
        if topic is None:  # PostgreSQL tests start from truncated tables
            topic = Topic(name=name)
            s.add(topic)
            s.flush()
        s.execute(search.episode_topic.insert().values(episode_id=ep.id, topic_id=topic.id))
    s.flush()
    search.index_episode(s, ep.id)
    s.commit()
    return ep.id


def titles(result: search.SearchResult) -> set[str]:
    return {e.title for e in result.episodes}


def test_tokens_are_cjk_unigrams_bigrams_and_words() -> None:
    assert tokenize("党建工作 ABC-12") == {
        "党",
        "建",
        "工",
        "作",
        "党建",
        "建工",
        "工作",
        "abc",
        "12",
    }
    assert query_terms("乡村振兴").exact == ("乡村", "村振", "振兴")
    assert query_terms("党").exact == ("党",)
    assert query_terms("Ｈ２６４").prefixes == ("h264",)  # full-width folded by NFKC


def test_two_character_words_are_found_in_every_field(db_session: Session) -> None:
    s = db_session
    a = add(s, "基层党建新气象", synopsis="讲述村支部的故事")
    b = add(s, "果树修剪", synopsis="介绍现代农业技术", keywords=("果树",))
    c = add(s, "田间课堂", keywords=("农业", "种植"), programme="科技之光")
    add(s, "警钟长鸣", synopsis="廉政教育")
    assert titles(search.search(s, SearchQuery(text="党建"))) == {"基层党建新气象"}
    assert titles(search.search(s, SearchQuery(text="农业"))) == {"果树修剪", "田间课堂"}
    assert titles(search.search(s, SearchQuery(text="科技之光"))) == {"田间课堂"}
    assert titles(search.search(s, SearchQuery(text="农业 种植"))) == {"田间课堂"}
    assert search.search(s, SearchQuery(text="党政")).total == 0
    assert {a, b, c} <= {e.id for e in search.search(s, SearchQuery()).episodes}


def test_facets_count_hits_and_filters_narrow(db_session: Session) -> None:
    s = db_session
    add(s, "党建引领一", topics=("党的建设",), made=date(2023, 5, 1))
    add(
        s,
        "党建引领二",
        topics=("党的建设", "先进典型"),
        source=SourceType.IMPORTED,
        made=date(2024, 1, 2),
        state=VersionState.APPROVED,
    )
    add(s, "党建引领三", programme="乡村振兴", source=SourceType.GENERAL, made=date(2024, 3, 3))
    add(s, "别的片子", topics=("党的建设",))
    result = search.search(s, SearchQuery(text="党建"))
    assert result.total == 3
    facets = {k: {f.label: f.count for f in v} for k, v in result.facets.items()}
    assert facets["programme"] == {"时代风采": 2, "乡村振兴": 1}
    assert facets["topic"] == {"党的建设": 2, "先进典型": 1}
    assert facets["source"] == {"self": 1, "imported": 1, "general": 1}
    assert facets["state"] == {"ready": 2, "approved": 1}
    assert facets["year"] == {"2024": 2, "2023": 1}
    topic_id = next(f.value for f in result.facets["topic"] if f.label == "先进典型")
    assert titles(search.search(s, SearchQuery(text="党建", topic_id=topic_id))) == {"党建引领二"}
    assert titles(search.search(s, SearchQuery(text="党建", year=2024, source="general"))) == {
        "党建引领三"
    }
    assert titles(search.search(s, SearchQuery(text="党建", state="approved"))) == {"党建引领二"}


def test_reindex_after_metadata_change_and_paging(db_session: Session) -> None:
    s = db_session
    ids = [add(s, f"第{n}集 党课") for n in range(5)]
    page = search.search(s, SearchQuery(text="党课", per_page=2, page=2))
    assert page.total == 5 and page.pages == 3
    assert [e.id for e in page.episodes] == sorted(ids, reverse=True)[2:4]
    ep = page.episodes[0]
    ep.title = "改名了"
    search.index_episode(s, ep.id)
    s.commit()
    assert search.search(s, SearchQuery(text="党课")).total == 4
    assert search.reindex_all(s) == 5
    s.commit()
    assert titles(search.search(s, SearchQuery(text="改名"))) == {"改名了"}


def facet_counts(result: search.SearchResult) -> dict[str, dict[str, int]]:
    return {k: {f.label: f.count for f in v} for k, v in result.facets.items()}


def test_a_chosen_facet_still_counts_its_other_values(db_session: Session) -> None:
    """Disjunctive facets: a facet's counts ignore its own filter and apply the others."""
    s = db_session
    add(s, "党建一", made=date(2023, 1, 1), topics=("党的建设",))
    add(s, "党建二", made=date(2024, 1, 1))
    add(s, "党建三", programme="乡村振兴", made=date(2024, 1, 1), topics=("党的建设",))
    add(s, "党建四", programme="科技之光", made=date(2023, 1, 1), state=VersionState.APPROVED)
    add(s, "别的", programme="科技之光", made=date(2024, 1, 1))
    everything = search.search(s, SearchQuery(text="党建"))
    prog = {f.label: f.value for f in everything.facets["programme"]}

    chosen = search.search(s, SearchQuery(text="党建", programme_id=prog["时代风采"]))
    assert titles(chosen) == {"党建一", "党建二"} and chosen.total == 2
    counts = facet_counts(chosen)
    assert counts["programme"] == {"时代风采": 2, "乡村振兴": 1, "科技之光": 1}
    assert counts["year"] == {"2024": 1, "2023": 1}
    assert counts["topic"] == {"党的建设": 1}
    assert counts["state"] == {"ready": 2}

    both = search.search(s, SearchQuery(text="党建", programme_id=prog["时代风采"], year=2024))
    assert titles(both) == {"党建二"}
    counts = facet_counts(both)
    assert counts["programme"] == {"时代风采": 1, "乡村振兴": 1}  # year applies, programme not
    assert counts["year"] == {"2024": 1, "2023": 1}  # programme applies, year not
    assert counts["source"] == {"self": 1}

    by_state = search.search(s, SearchQuery(text="党建", state="approved"))
    assert titles(by_state) == {"党建四"}
    assert facet_counts(by_state)["state"] == {"ready": 3, "approved": 1}
    topic = next(f.value for f in everything.facets["topic"])
    by_topic = search.search(s, SearchQuery(topic_id=topic))
    assert titles(by_topic) == {"党建一", "党建三"}
    assert facet_counts(by_topic)["topic"] == {"党的建设": 2}
    assert facet_counts(by_topic)["programme"] == {"时代风采": 1, "乡村振兴": 1}


def test_words_of_three_or_more_characters_must_appear_as_typed(db_session: Session) -> None:
    s = db_session
    add(s, "乡村振兴在行动")
    add(s, "乡村建设", synopsis="新村振兴计划")  # 乡村, 村振 and 振兴, but never 乡村振兴
    add(s, "田间", keywords=("乡村振兴",))
    add(s, "振兴乡村")
    assert titles(search.search(s, SearchQuery(text="乡村振兴"))) == {"乡村振兴在行动", "田间"}
    assert titles(search.search(s, SearchQuery(text="村振兴"))) == {
        "乡村振兴在行动",
        "田间",
        "乡村建设",
    }
    assert search.search(s, SearchQuery(text="乡村振兴")).total == 2
    assert titles(search.search(s, SearchQuery(text="振兴"))) == {
        "乡村振兴在行动",
        "乡村建设",
        "田间",
        "振兴乡村",
    }


def test_state_filter_follows_transitions_without_reindexing(db_session: Session) -> None:
    s = db_session
    ep_id = add(s, "党课")
    add(s, "党课二")
    assert search.search(s, SearchQuery(text="党课", state="approved")).total == 0
    version = search.search(s, SearchQuery(text="党课")).episodes[-1].versions[-1]
    assert version.episode_id == ep_id
    version.state = VersionState.APPROVED  # a trigger copies it to the search row
    s.commit()
    found = search.search(s, SearchQuery(text="党课", state="approved"))
    assert [e.id for e in found.episodes] == [ep_id]
    assert facet_counts(search.search(s, SearchQuery(text="党课")))["state"] == {
        "ready": 1,
        "approved": 1,
    }


def test_counting_stops_at_the_limit_and_says_so(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = db_session
    ids = [add(s, f"第{n}集 党课", programme="乡村振兴" if n < 2 else "时代风采") for n in range(5)]
    assert search.search(s, SearchQuery(text="党课")).total_exact
    monkeypatch.setattr(search_query, "COUNT_LIMIT", 3)
    capped = search.search(s, SearchQuery(text="党课", per_page=2))
    assert (capped.total, capped.total_exact) == (3, False)
    assert [e.id for e in capped.episodes] == sorted(ids, reverse=True)[:2]
    assert facet_counts(capped)["programme"] == {"时代风采": 3}  # the newest three
    exact = search.search(
        s, SearchQuery(text="党课", programme_id=capped.facets["programme"][0].value)
    )
    assert (exact.total, exact.total_exact) == (3, True)


def test_an_index_made_before_facet_tokens_is_upgraded_in_place(database_url: str) -> None:
    """Migration 0008 adds facet tokens, states and the FTS5 facets column to old rows."""
    # The catalogue rows are made with today's models (later migrations add columns the
    # factories fill), then the search index is taken back to before 0008 and filled as
    # 0007 did.
    db = Database(database_url)
    with db.session() as s:
        v = factories.version(s, VersionState.READY, programme="党建园地", title="老党课")
        topic_id = s.scalar(select(Topic.id).where(Topic.name == "党的建设"))
        if topic_id is None:  # PostgreSQL tests start from truncated tables
            topic_id = s.scalar(
                text(
                    "INSERT INTO topic (name, position, active) VALUES ('党的建设', 1, true) "
                    "RETURNING id"
                )
            )
        s.execute(search.episode_topic.insert().values(episode_id=v.episode_id, topic_id=topic_id))
        row = {"id": v.episode_id, "p": v.episode.programme_id, "v": v.id}
        s.commit()
    db.dispose()
    migrate.downgrade(database_url, "0007_upload_parts")
    try:
        db = Database(database_url)
        with db.session() as s:
            tokens = "党 课 老 党课 老党"
            insert = (
                "INSERT INTO episode_search (episode_id, document, programme_id, source_type,"
                " year, latest_version_id, sort_title) VALUES (:id, :doc, :p, 'self', 2023, :v,"
                " '老党课')"
            )
            if db.dialect == "postgresql":
                insert = insert.replace(":doc", "array_to_tsvector(string_to_array(:doc, ' '))")
            else:
                s.execute(text("CREATE VIRTUAL TABLE episode_fts USING fts5(document)"))
                s.execute(
                    text("INSERT INTO episode_fts(rowid, document) VALUES (:id, :doc)"),
                    {**row, "doc": tokens},
                )
            s.execute(text(insert), {**row, "doc": tokens if db.dialect == "postgresql" else ""})
            s.commit()
        db.dispose()
        migrate.upgrade(database_url)
        db = Database(database_url)
        with db.session() as s:
            q = SearchQuery(
                text="党课", programme_id=row["p"], topic_id=topic_id, year=2023, state="ready"
            )
            found = search.search(s, q)
            assert [e.id for e in found.episodes] == [row["id"]]
            assert facet_counts(found)["topic"] == {"党的建设": 1}
            assert search.search(s, SearchQuery(text="党课", state="approved")).total == 0
        db.dispose()
    finally:
        migrate.upgrade(database_url)


@pytest.mark.parametrize("window", [3, 5, 6, 100])
def test_the_newest_hits_of_a_long_word_whichever_way_they_are_found(
    db_session: Session, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    """PostgreSQL looks among the newest rows first; the answer must not depend on it."""
    s = db_session
    hits = [add(s, f"乡村振兴第{n}讲") for n in range(4)]
    for n in range(3):
        add(s, f"别的片子{n}")  # the newest rows hold no hit
    monkeypatch.setattr(search_query, "COUNT_LIMIT", 2)
    monkeypatch.setattr(search_query, "RECENT_WINDOW", window)  # 3, 5: too few hits in it
    found = search.search(s, SearchQuery(text="乡村振兴", per_page=2))
    assert [e.id for e in found.episodes] == sorted(hits, reverse=True)[:2]
    assert (found.total, found.total_exact) == (2, False)
    monkeypatch.setattr(search_query, "COUNT_LIMIT", 10)
    assert search.search(s, SearchQuery(text="乡村振兴")).total == 4
