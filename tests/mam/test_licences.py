"""Licences: the rule as a literal table (use × territory × dates → allowed or the reason),
and release sets that refuse what a licence does not cover (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import InvalidInput, NotAllowed
from mam.i18n import translator
from mam.models import AuditEvent, County, Episode, Programme, Role, SourceType, VersionState
from mam.models.licence import Licence, LicenceCounty
from mam.models.release import PackageKind
from mam.services.licences import LicenceForm, LicenceService, licence_state, refusal
from mam.services.releases import ReleaseService
from tests import factories

A, B, C = 1, 2, 3  # county ids of the table (names 甲县, 乙县, 丙县)
NAMES = {A: "甲县", B: "乙县", C: "丙县"}
D = date(2026, 12, 1)  # "today" in the table


def _licence(
    uses: tuple[str, ...] = ("tv", "playback", "web"),
    counties: tuple[int, ...] | None = None,
    starts: date | None = date(2026, 1, 1),
    ends: date | None = date(2026, 12, 31),
) -> Licence:
    return Licence(
        holder="中央新影",
        uses=list(uses),
        all_counties=counties is None,
        territory=[LicenceCounty(county_id=c) for c in counties or ()],
        starts_on=starts,
        ends_on=ends,
    )


IMPORTED = SourceType.IMPORTED
SELF = SourceType.SELF
GENERAL = SourceType.GENERAL
ALL3 = ("tv", "playback", "web")
# (source, licence, uses asked, counties asked (None: all), day) -> expected English reason
TABLE = [
    (SELF, None, ALL3, None, D, None),
    (IMPORTED, None, ALL3, {A}, D, "it is imported or general teaching material and has no "
     "licence yet; enter its licence on the episode page first"),
    (GENERAL, None, ("web",), {A}, D, "it is imported or general teaching material and has no "
     "licence yet; enter its licence on the episode page first"),
    (IMPORTED, _licence(), ALL3, None, D, None),
    (IMPORTED, _licence(), ALL3, {A, B}, date(2026, 12, 31), None),  # the last day counts
    (IMPORTED, _licence(), ALL3, {A}, date(2027, 1, 1), "its licence ended on 2026-12-31"),
    (IMPORTED, _licence(), ALL3, {A}, date(2025, 12, 31), "its licence starts on 2026-01-01"),
    (IMPORTED, _licence(starts=None, ends=None), ALL3, None, date(2040, 1, 1), None),
    (IMPORTED, _licence(uses=("tv",)), ("tv",), {A}, D, None),
    (IMPORTED, _licence(uses=("tv",)), ("tv", "web"), {A}, D,
     "its licence does not allow online learning"),
    (IMPORTED, _licence(uses=("tv", "web")), ("playback",), {A}, D,
     "its licence does not allow playback in villages"),
    (IMPORTED, _licence(counties=(A, B)), ALL3, {A, B}, D, None),
    (IMPORTED, _licence(counties=(A, B)), ALL3, {A}, D, None),
    (IMPORTED, _licence(counties=(A,)), ALL3, {A, B, C}, D,
     "its licence does not cover 乙县、丙县"),
    (IMPORTED, _licence(counties=(A, B)), ALL3, None, D,
     "its licence covers only some counties, not all counties"),
    (SELF, _licence(counties=(A,)), ALL3, {B}, D, "its licence does not cover 乙县"),  # set
    (SELF, _licence(), ALL3, {B}, date(2027, 2, 1), "its licence ended on 2026-12-31"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "licence", "uses", "counties", "day", "expected"), TABLE)
def test_the_licence_rule(
    source: SourceType,
    licence: Licence | None,
    uses: tuple[str, ...],
    counties: set[int] | None,
    day: date,
    expected: str | None,
) -> None:
    episode = Episode(title="引进片", source_type=source)
    asked = None if counties is None else {c: NAMES[c] for c in counties}
    found = refusal(episode, licence, uses, asked, day)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        from mam.i18n import render

        assert render(found["template"], found["params"], str) == expected


@pytest.mark.parametrize(
    ("licence", "day", "state"),
    [
        (None, D, "none"),
        (_licence(ends=date(2027, 6, 1)), D, "valid"),
        (_licence(ends=date(2026, 12, 31)), D, "expiring"),  # 30 days ahead
        (_licence(ends=date(2027, 1, 1)), D, "valid"),  # 31 days ahead
        (_licence(ends=date(2026, 12, 1)), D, "expiring"),  # its last day
        (_licence(ends=date(2026, 11, 30)), D, "expired"),
        (_licence(starts=date(2026, 12, 2)), D, "pending"),
        (_licence(ends=None), D, "valid"),
    ],
)
def test_licence_states(licence: Licence | None, day: date, state: str) -> None:
    assert licence_state(licence, day) == state


# ---- with a database ---------------------------------------------------------------------


@pytest.fixture
def world(db_session: Session) -> dict:  # type: ignore[type-arg]
    s = db_session
    suffix = uuid.uuid4().hex[:4]
    a, b = County(code=f"a{suffix}", name="甲县"), County(code=f"b{suffix}", name="乙县")
    s.add_all([a, b])
    s.flush()
    producer = factories.user(s, Role.PRODUCER)
    v = factories.version(
        s, VersionState.APPROVED, programme=f"引进纪录片{suffix}", title="大国粮仓"
    )
    v.episode.source_type = SourceType.IMPORTED
    v.episode.programme.producer_id = producer.id
    s.flush()
    return {
        "a": a, "b": b, "version": v, "episode": v.episode, "producer": producer,
        "publisher": factories.user(s, Role.PUBLISHER),
    }  # fmt: skip


def _draft(s: Session, world: dict, targets: list[int] | None) -> object:  # type: ignore[type-arg]
    svc = ReleaseService(s)
    release = svc.create(f"2026年第{uuid.uuid4().hex[:4]}期", world["publisher"])
    svc.set_targets(release, targets, world["publisher"])
    return release


def test_imported_material_without_a_licence_cannot_enter_a_set(
    db_session: Session,
    world: dict,  # type: ignore[type-arg]
) -> None:
    release = _draft(db_session, world, [world["a"].id])
    with pytest.raises(NotAllowed) as refused:
        ReleaseService(db_session).add_version(release, world["version"].id, world["publisher"])  # type: ignore[arg-type]
    assert refused.value.code == "licence.refused"
    assert refused.value.translated(translator("zh_CN")) == (
        "《大国粮仓》不能在此发布：该片属于引进或省市通用教材，尚未录入版权许可；请先在节目页面录入许可。"
    )


def test_publishing_an_out_of_territory_episode_is_refused(
    db_session: Session,
    world: dict,  # type: ignore[type-arg]
) -> None:
    s, a, b = db_session, world["a"], world["b"]
    LicenceService(s).save(
        world["producer"],
        LicenceForm(holder="中央新影", contract_ref="ZX-2026-08", starts_on="2026-01-01",
                    ends_on="2099-12-31", uses=("tv", "playback", "web"), all_counties=False,
                    county_ids=(a.id,)),
        episode=world["episode"],
    )  # fmt: skip
    svc = ReleaseService(s)
    release = _draft(s, world, [a.id])
    svc.add_version(release, world["version"].id, world["publisher"])  # type: ignore[arg-type]
    with pytest.raises(NotAllowed) as refused:  # adding 乙县 to the targets
        svc.set_targets(release, [a.id, b.id], world["publisher"])  # type: ignore[arg-type]
    assert refused.value.translated(translator("zh_CN")) == (
        "《大国粮仓》不能在此发布：许可范围不包括乙县。"
    )
    with pytest.raises(NotAllowed, match="covers only some counties"):
        svc.set_targets(release, None, world["publisher"])  # type: ignore[arg-type]
    # the final gate: a set whose targets were changed behind the service is refused too
    release.all_counties = True  # type: ignore[attr-defined]
    with pytest.raises(NotAllowed, match="covers only some counties"):
        svc.publish(release, world["publisher"])  # type: ignore[arg-type]
    release.all_counties = False  # type: ignore[attr-defined]
    svc.publish(release, world["publisher"])  # type: ignore[arg-type]
    assert release.state.value == "published"  # type: ignore[attr-defined]
    saved = s.scalars(select(AuditEvent).where(AuditEvent.action == "licence_saved")).one()
    assert (saved.object_type, saved.object_id) == ("episode", world["episode"].id)
    assert saved.details["counties"] == [a.id] and saved.details["ends_on"] == "2099-12-31"


def test_a_set_for_tv_only_takes_a_tv_licence_and_builds_only_its_package(
    db_session: Session,
    world: dict,  # type: ignore[type-arg]
) -> None:
    s = db_session
    LicenceService(s).save(
        world["producer"], LicenceForm(holder="中央新影", uses=("tv",)), episode=world["episode"]
    )
    svc = ReleaseService(s)
    release = _draft(s, world, [world["a"].id])
    with pytest.raises(NotAllowed, match="does not allow playback in villages"):
        svc.add_version(release, world["version"].id, world["publisher"])  # type: ignore[arg-type]
    svc.set_uses(release, ["tv"], world["publisher"])  # type: ignore[arg-type]
    svc.add_version(release, world["version"].id, world["publisher"])  # type: ignore[arg-type]
    with pytest.raises(NotAllowed, match="does not allow online learning"):
        svc.set_uses(release, ["tv", "web"], world["publisher"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="at least one use"):
        svc.set_uses(release, ["radio"], world["publisher"])  # type: ignore[arg-type]
    packages = svc.publish(release, world["publisher"])  # type: ignore[arg-type]
    assert [p.kind for p in packages] == [PackageKind.TV]


def test_a_programme_licence_is_inherited_and_an_episode_licence_wins(
    db_session: Session,
    world: dict,  # type: ignore[type-arg]
) -> None:
    s = db_session
    licences = LicenceService(s)
    programme: Programme = world["episode"].programme
    licences.save(
        world["producer"], LicenceForm(holder="省电教馆", ends_on="2026-11-30", uses=("web",)),
        programme=programme,
    )  # fmt: skip
    episode = world["episode"]
    assert licences.state(episode, D) == "expired"
    assert not licences.permits(episode, "web", world["a"].id, date(2026, 12, 1))
    assert licences.permits(episode, "web", world["a"].id, date(2026, 11, 30))
    licences.save(world["producer"], LicenceForm(holder="中央新影", uses=("web",)), episode=episode)
    assert licences.state(episode, D) == "valid"
    licences.remove(world["producer"], episode=episode)
    assert licences.state(episode, D) == "expired"
    stranger = factories.user(s, Role.PRODUCER)
    with pytest.raises(NotAllowed):
        licences.save(stranger, LicenceForm(holder="x", uses=("tv",)), episode=episode)
    with pytest.raises(InvalidInput, match="cannot end"):
        licences.save(
            world["producer"],
            LicenceForm(holder="x", starts_on="2026-05-01", ends_on="2026-04-30", uses=("tv",)),
            episode=episode,
        )
    with pytest.raises(InvalidInput, match="licensed counties"):
        licences.save(
            world["producer"], LicenceForm(holder="x", uses=("tv",), all_counties=False),
            episode=episode,
        )  # fmt: skip


def test_the_rights_holder_and_expiry_typed_with_the_metadata_are_the_episodes_licence(
    db_session: Session,
    world: dict,  # type: ignore[type-arg]
) -> None:
    """The upload, metadata and import forms ask for 版权方 and 版权到期: what a producer
    types there is the episode's licence (holder and last day), not a note that leaves the
    film unpublishable with 'enter its licence first'."""
    from mam.services import metadata

    s, episode, producer = db_session, world["episode"], world["producer"]
    licences = LicenceService(s)
    assert licences.state(episode, D) == "none"
    cleaned = metadata.clean_metadata(
        s, {"rights_holder": "中央新影", "rights_expiry": "2027-06-30"}
    )
    metadata.apply_metadata(s, episode, cleaned, producer)
    own = licences.own(episode)
    assert own is not None
    assert (own.holder, own.ends_on, own.all_counties) == ("中央新影", date(2027, 6, 30), True)
    assert own.uses == ["tv", "playback", "web"]
    assert licences.state(episode, D) == "valid"
    release = _draft(s, world, [world["a"].id])
    ReleaseService(s).add_version(release, world["version"].id, world["publisher"])  # type: ignore[arg-type]

    # a later edit of the expiry moves the licence's last day, and keeps what the licence
    # page narrowed (uses, territory)
    licences.save(
        producer,
        LicenceForm(holder="中央新影", ends_on="2027-06-30", uses=("tv",), all_counties=False,
                    county_ids=(world["a"].id,)),
        episode=episode,
    )  # fmt: skip
    metadata.apply_metadata(
        s, episode, metadata.clean_metadata(s, {"rights_expiry": "2026-12-15"}), producer
    )
    own = licences.own(episode)
    assert own is not None and own.ends_on == date(2026, 12, 15)
    assert own.uses == ["tv"] and own.county_ids == {world["a"].id}
    assert licences.state(episode, D) == "expiring"

    # and the licence page's holder and last day show on the metadata form
    licences.save(
        producer, LicenceForm(holder="省电教馆", ends_on="2028-01-31", uses=("tv",)),
        episode=episode,
    )  # fmt: skip
    shown = metadata.metadata_dict(s, episode)
    assert (shown["rights_holder"], shown["rights_expiry"]) == ("省电教馆", "2028-01-31")
    saved = s.scalars(
        select(AuditEvent).where(AuditEvent.action == "licence_saved")
    ).all()
    assert len(saved) == 4
