"""Facet counts of a search (programme, topic, source type, state, year)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, func, literal, select, union_all
from sqlalchemy import cast as sa_cast
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from mam.models import Programme, Version
from mam.models.catalogue import EpisodeSearch, Topic, episode_topic

# What facets_in_one_statement expects the matched rows to have, in this order.
FACET_COLUMNS = (
    EpisodeSearch.episode_id,
    EpisodeSearch.programme_id,
    EpisodeSearch.source_type,
    EpisodeSearch.year,
    EpisodeSearch.latest_version_id,
)


@dataclass
class Facet:
    value: Any
    label: str
    count: int


def facets_in_one_statement(
    session: Session, matched_rows: Select[Any]
) -> tuple[int, dict[str, list[Facet]]]:
    """Count facets in one statement over a materialised match (PostgreSQL).

    There each GIN match re-reads the wide search rows, so evaluating it once and
    grouping the narrow result five ways is the cheaper plan.
    """
    matched = matched_rows.cte("matched").prefix_with("MATERIALIZED")
    m = matched.c

    def grouped(name: str, column: Any, *joins: Any) -> Any:
        stmt = select(literal(name), sa_cast(column, String), func.count()).select_from(matched)
        for target, on in joins:
            stmt = stmt.join(target, on)
        return stmt.group_by(column)

    union = union_all(
        select(literal("total"), sa_cast(literal(""), String), func.count()).select_from(matched),
        grouped("programme", m.programme_id),
        grouped("source", m.source_type),
        grouped("year", m.year),
        grouped("state", Version.state, (Version, Version.id == m.latest_version_id)),
        grouped(
            "topic",
            episode_topic.c.topic_id,
            (episode_topic, episode_topic.c.episode_id == m.episode_id),
        ),
    )
    counts: dict[str, list[tuple[str, int]]] = {}
    for name, value, n in session.execute(union):
        if value is not None:
            counts.setdefault(name, []).append((value, n))
    for rows in counts.values():
        rows.sort(key=lambda r: -r[1])
    ids = [int(v) for v, _ in counts.get("programme", [])]
    prog_names = dict(
        session.execute(select(Programme.id, Programme.name).where(Programme.id.in_(ids))).all()
    )
    topic_names = dict(session.execute(select(Topic.id, Topic.name)).all())
    total = counts.pop("total", [("", 0)])[0][1]
    return total, {
        "programme": [
            Facet(int(v), prog_names.get(int(v), "?"), n) for v, n in counts.get("programme", [])
        ],
        "topic": [
            Facet(int(v), topic_names.get(int(v), "?"), n) for v, n in counts.get("topic", [])
        ],
        "source": [Facet(v, v, n) for v, n in counts.get("source", [])],
        "state": [Facet(v, v, n) for v, n in counts.get("state", [])],
        "year": sorted(
            (Facet(int(v), v, n) for v, n in counts.get("year", [])), key=lambda f: -f.value
        ),
    }


def facets_by_query(
    session: Session, filtered: Callable[[Sequence[Any]], Select[Any]], *, joined_version: bool
) -> tuple[int, dict[str, list[Facet]]]:
    """Count the hits, and the hits per facet value (one small GROUP BY each).

    Each query repeats the text match as ``episode_id IN (match)``: both databases then
    probe the search table by primary key, which for a few thousand hits is far cheaper
    than materialising the match and joining against it.
    """
    es = EpisodeSearch

    def grouped(column: Any, *joins: Any) -> list[tuple[Any, int]]:
        stmt = filtered((column, func.count()))
        for target, on in joins:
            stmt = stmt.join(target, on)
        rows = session.execute(stmt.group_by(column).order_by(func.count().desc())).all()
        return [(v, n) for v, n in rows if v is not None]

    total = session.scalar(filtered((func.count(),))) or 0
    programmes = grouped(es.programme_id)
    topics = grouped(
        episode_topic.c.topic_id, (episode_topic, episode_topic.c.episode_id == es.episode_id)
    )
    version_join = () if joined_version else ((Version, Version.id == es.latest_version_id),)
    states = grouped(Version.state, *version_join)  # the state filter joined it already
    prog_names = dict(
        session.execute(
            select(Programme.id, Programme.name).where(Programme.id.in_([v for v, _ in programmes]))
        ).all()
    )
    topic_names = dict(session.execute(select(Topic.id, Topic.name)).all())
    return total, {
        "programme": [Facet(v, prog_names.get(v, "?"), n) for v, n in programmes],
        "topic": [Facet(v, topic_names.get(v, "?"), n) for v, n in topics],
        "source": [Facet(v, v, n) for v, n in grouped(es.source_type)],
        "state": [Facet(str(v), str(v), n) for v, n in states],
        "year": sorted((Facet(v, str(v), n) for v, n in grouped(es.year)), key=lambda f: -f.value),
    }
