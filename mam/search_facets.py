"""Facet counts of a search (programme, topic, source type, state, licence, year), in one
statement.

Counts are disjunctive, as shoppers expect: the counts of a facet ignore that facet's own
filter (so choosing one programme still shows how many hits the others have) and apply
every other filter.

Counting visits every hit, so it stops at ``COUNT_LIMIT``: past it the total is a lower
bound and the counts are those of the newest ``COUNT_LIMIT`` hits. The hits are
evaluated once into a materialised CTE (the newest ``COUNT_LIMIT`` + 1) that gives the
total, the page of ids and every count in one round trip; a chosen facet adds one CTE of the hits
without its own filter. The database groups; Python reads a few dozen rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, String, case, func, literal, null, or_, select, union_all
from sqlalchemy import cast as sa_cast
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from mam.models import Programme
from mam.models.catalogue import Topic, episode_topic
from mam.models.licence import EXPIRING_DAYS, LIBRARY_TZ, Licence

COUNT_LIMIT = 1000


def hit_columns(es: Any) -> tuple[Any, ...]:
    """Return the facet values read with every hit (topics, many per episode, are joined)."""
    return (
        es.programme_id.label("programme"),
        es.source_type.label("source"),
        es.year.label("year"),
        es.state.label("state"),
        licence_state(es).label("licence"),
    )


def licence_state(es: Any, day: date | None = None) -> Any:
    """Return the licence state of a hit (``mam.services.licences.licence_state`` in SQL).

    It depends on the date, so it is computed per hit, not indexed: the governing licence
    (the episode's, else its programme's) is looked up by its unique keys.
    """
    day = day or datetime.now(LIBRARY_TZ).date()
    def state_of(lic: Any) -> Any:
        return case(
            (lic.starts_on > literal(day, Date), "pending"),
            (lic.ends_on < literal(day, Date), "expired"),
            (lic.ends_on <= literal(day + timedelta(days=EXPIRING_DAYS), Date), "expiring"),
            else_="valid",
        )

    # Two index lookups at most per hit: coalesce stops at the episode's own licence.
    own, inherited = aliased(Licence), aliased(Licence)
    return func.coalesce(
        select(state_of(own))
        .where(own.episode_id == es.episode_id)
        .correlate_except(own)
        .scalar_subquery(),
        select(state_of(inherited))
        .where(inherited.programme_id == es.programme_id)
        .correlate_except(inherited)
        .scalar_subquery(),
        "none",
    )


_INT_VALUES = {"programme", "year", "topic", "page"}


@dataclass
class Facet:
    value: Any
    label: str
    count: int


@dataclass
class Counted:
    total: int  # at most ``limit``
    exact: bool  # False: there are more hits than ``total``
    page_ids: list[int]
    facets: dict[str, list[Facet]] = field(default_factory=dict)


def count_hits(
    session: Session,
    matched: Callable[[str | None, int], Select[Any]],
    *,
    active: set[str],
    offset: int,
    per_page: int,
    limit: int = COUNT_LIMIT,
    facets: bool = True,
) -> Counted:
    """Count the hits of ``matched(None)``, list one page of them, count facet values.

    ``matched(name, n)`` returns the hits (``hit_id`` and ``hit_columns``), newest first,
    with every filter except facet ``name``'s, of which the first ``n`` will be taken;
    ``active`` names the facets filtered on.
    """

    def newest(name: str, without: str | None) -> tuple[Any, Any]:
        """Return a CTE of up to limit + 1 hits, and a subquery of the newest ``limit``."""
        hits = matched(without, limit + 1).limit(limit + 1).cte(name).prefix_with("MATERIALIZED")
        oldest = select(func.min(hits.c.hit_id)).scalar_subquery()
        within = select(func.count()).select_from(hits).scalar_subquery() <= limit
        counted = select(hits).where(or_(within, hits.c.hit_id > oldest))
        return hits, counted.subquery(f"counted_{name}")

    hits, counted = newest("hits", None)

    def row(kind: str, value: Any, label: Any, n: Any) -> Any:
        return select(literal(kind), sa_cast(value, String), sa_cast(label, String), n)

    page = (
        row("page", hits.c.hit_id, null(), hits.c.hit_id)
        .order_by(hits.c.hit_id.desc())
        .limit(per_page)
        .offset(offset)
        .subquery("page")
    )
    parts = [
        row("total", null(), null(), func.count()).select_from(hits),
        select(page),
    ]
    for name in ("programme", "source", "year", "state", "licence", "topic") if facets else ():
        source = counted
        if name in active:  # disjunctive: this facet's counts without its own filter
            source = newest(f"without_{name}", name)[1]
        if name == "programme":  # group first, then look up the dozen names
            n = (
                select(source.c.programme.label("id"), func.count().label("n"))
                .group_by(source.c.programme)
                .subquery("by_programme")
            )
            parts.append(
                row("programme", n.c.id, Programme.name, n.c.n).join_from(
                    n, Programme, Programme.id == n.c.id
                )
            )
        elif name == "topic":  # grouped by topic name: the hits drive the join
            et = episode_topic.c
            parts.append(
                row("topic", Topic.id, Topic.name, func.count())
                .select_from(source)
                .join(episode_topic, et.episode_id == source.c.hit_id)
                .join(Topic, Topic.id == et.topic_id)
                .group_by(Topic.id, Topic.name)
            )
        else:
            column = source.c[name]
            parts.append(
                row(name, column, null(), func.count())
                .select_from(source)
                .where(column.is_not(None))
                .group_by(column)
            )
    total, page_ids = 0, []
    found: dict[str, list[Facet]] = {}
    for kind, text, label, n in session.connection().execute(union_all(*parts)):
        value = int(text) if kind in _INT_VALUES and text is not None else text
        if kind == "total":
            total = n
        elif kind == "page":
            page_ids.append((n, value))
        else:
            found.setdefault(kind, []).append(Facet(value, label or str(value), n))
    if facets:
        for kind in ("programme", "topic", "source", "state", "licence", "year"):
            found.setdefault(kind, []).sort(key=lambda f: (-f.count, str(f.value)))
        found["year"].sort(key=lambda f: -f.value)
    return Counted(
        total=min(total, limit),
        exact=total <= limit,
        page_ids=[i for _, i in sorted(page_ids, reverse=True)],
        facets=found,
    )
