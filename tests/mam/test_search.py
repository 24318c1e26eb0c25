from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam import search
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
