"""The licence facet of the catalogue search: counts per state (today's), and the filter,
with programme licences inherited (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from mam import search
from mam.models import Episode, Role, SourceType
from mam.search import SearchQuery
from mam.services.licences import LicenceForm, LicenceService, today
from tests import factories
from tests.mam.test_search import add, titles


def test_licence_facet_counts_and_filters(db_session: Session) -> None:
    s = db_session
    admin = factories.user(s, Role.ADMIN)
    day = today()
    valid = add(s, "党课新编一", source=SourceType.IMPORTED)
    expiring = add(s, "党课新编二", source=SourceType.IMPORTED)
    expired = add(s, "党课新编三", programme="引进纪录片", source=SourceType.IMPORTED)
    add(s, "党课新编四", programme="引进纪录片", source=SourceType.IMPORTED)  # inherits
    add(s, "党课新编五")  # self-produced, no licence: none
    add(s, "党课新编六", source=SourceType.GENERAL)  # none (and so cannot be released)
    pending = add(s, "党课新编七", source=SourceType.IMPORTED)
    licences = LicenceService(s)

    def save(episode_id: int, **dates: object) -> None:
        form = LicenceForm(holder="中央新影", uses=("tv",), **dates)  # type: ignore[arg-type]
        licences.save(admin, form, episode=s.get_one(Episode, episode_id))

    save(valid, ends_on=(day + timedelta(days=31)).isoformat())
    save(expiring, ends_on=(day + timedelta(days=30)).isoformat())
    save(pending, starts_on=(day + timedelta(days=1)).isoformat())
    programme = s.get_one(Episode, expired).programme
    licences.save(
        admin,
        LicenceForm(holder="省电教馆", uses=("tv",), ends_on=(day - timedelta(days=1)).isoformat()),
        programme=programme,
    )
    s.commit()
    result = search.search(s, SearchQuery(text="党课"))
    facets = {f.value: f.count for f in result.facets["licence"]}
    assert facets == {"valid": 1, "expiring": 1, "expired": 2, "none": 2, "pending": 1}
    chosen = search.search(s, SearchQuery(text="党课", licence="expired"))
    assert titles(chosen) == {"党课新编三", "党课新编四"}
    # disjunctive: the licence counts stay while filtering on the licence
    assert {f.value: f.count for f in chosen.facets["licence"]} == facets
    # with another filter: the imported ones without a licence of any kind (none)
    both = search.search(s, SearchQuery(text="党课", licence="none", source="general"))
    assert titles(both) == {"党课新编六"}
    assert titles(search.search(s, SearchQuery(text="党课", licence="bogus"))) == set()
