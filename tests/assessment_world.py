"""A small playback network with plans and screenings whose figures are worked out by hand.

County c1 甲县 (A): townships 城关镇 (T1: points P1 village for O1, P2 community for O2) and
河西乡 (T2: P3 enterprise for O3, P4 inactive for O4, P6 school without organisation; O5
inactive). County c2 乙县 (B): township 东山乡 (T3: P5 village for O6; O7 has no point).
Release sets: R0 (2026-02, to A), R1 (2026-03-02, to A and B: E1, E2), R2 (2026-04-01, all
counties: E3), R3 (draft). The expected figures are in tests/mam/test_assessment.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.models import County, Episode, VersionState
from mam.models.network import (
    Organisation,
    Plan,
    PlanEntry,
    PlaybackPoint,
    PointKind,
    Township,
)
from mam.models.release import (
    Receipt,
    ReleaseItem,
    ReleaseSet,
    ReleaseState,
    ReleaseTarget,
    Screening,
    ScreeningOutcome,
)
from mam.services import assessment_rollup
from tests import factories


@dataclass
class World:
    counties: dict[str, int] = field(default_factory=dict)
    townships: dict[str, int] = field(default_factory=dict)
    points: dict[str, int] = field(default_factory=dict)
    screenings: dict[str, int] = field(default_factory=dict)


def _county(session: Session, code: str, name: str) -> County:
    county = session.scalar(select(County).where(County.code == code))
    if county is None:
        county = County(code=code, name=name)
        session.add(county)
        session.flush()
    return county


def _at(day: str, hour: int = 10) -> datetime:
    d = date.fromisoformat(day)
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def _release(
    session: Session, name: str, published: str | None, episodes: list[Episode], **kw: object
) -> ReleaseSet:
    versions = {v.episode_id: v for v in (e.versions[0] for e in episodes)}
    release = ReleaseSet(
        name=name,
        state=ReleaseState.PUBLISHED if published else ReleaseState.DRAFT,
        published_at=_at(published) if published else None,
        publish_date=date.fromisoformat(published) if published else None,
        items=[
            ReleaseItem(episode_id=e.id, version_id=versions[e.id].id, position=n)
            for n, e in enumerate(episodes)
        ],
        **kw,
    )
    session.add(release)
    session.flush()
    return release


def build(session: Session) -> World:
    """Create the network, releases, plans and screenings; flush, do not commit."""
    w = World()
    a, b = _county(session, "c1", "甲县"), _county(session, "c2", "乙县")
    w.counties = {"A": a.id, "B": b.id}
    eps = [
        factories.version(session, VersionState.RELEASED, title=t).episode
        for t in ("党的光辉历程", "乡村振兴路", "科学种田", "草稿片")
    ]
    e1, e2, e3, e4 = eps
    r0 = _release(session, "2026年第2期", "2026-02-01", [e1], targets=[ReleaseTarget(county=a)])
    r1 = _release(
        session,
        "2026年第3期",
        "2026-03-02",
        [e1, e2],
        targets=[ReleaseTarget(county=a), ReleaseTarget(county=b)],
    )
    r2 = _release(session, "2026年第4期", "2026-04-01", [e3], all_counties=True)
    _release(session, "2026年第5期（草稿）", None, [e4], all_counties=True)
    session.add_all(
        [
            Receipt(release_id=r1.id, county_id=a.id, confirmed_at=_at("2026-03-05")),
            Receipt(release_id=r2.id, county_id=a.id, confirmed_at=_at("2026-04-20")),
            Receipt(release_id=r1.id, county_id=b.id, confirmed_at=_at("2026-03-10")),
        ]
    )
    t1 = Township(county_id=a.id, name="城关镇")
    t2 = Township(county_id=a.id, name="河西乡")
    t3 = Township(county_id=b.id, name="东山乡")
    session.add_all([t1, t2, t3])
    session.flush()
    w.townships = {"T1": t1.id, "T2": t2.id, "T3": t3.id}
    orgs = {
        "O1": Organisation(township_id=t1.id, name="东村", kind=PointKind.VILLAGE),
        "O2": Organisation(township_id=t1.id, name="南街社区", kind=PointKind.COMMUNITY),
        "O3": Organisation(township_id=t2.id, name="河西机械厂", kind=PointKind.ENTERPRISE),
        "O4": Organisation(township_id=t2.id, name="西村", kind=PointKind.VILLAGE),
        "O5": Organisation(township_id=t2.id, name="旧村", kind=PointKind.VILLAGE, active=False),
        "O6": Organisation(township_id=t3.id, name="山前村", kind=PointKind.VILLAGE),
        "O7": Organisation(township_id=t3.id, name="山后村", kind=PointKind.VILLAGE),
    }
    session.add_all(orgs.values())
    session.flush()
    spec = [
        ("P1", t1, "东村放映点", PointKind.VILLAGE, "O1", True),
        ("P2", t1, "南街社区放映点", PointKind.COMMUNITY, "O2", True),
        ("P3", t2, "机械厂放映点", PointKind.ENTERPRISE, "O3", True),
        ("P4", t2, "西村放映点", PointKind.VILLAGE, "O4", False),
        ("P6", t2, "河西中学放映点", PointKind.SCHOOL, None, True),
        ("P5", t3, "山前村放映点", PointKind.VILLAGE, "O6", True),
    ]
    points = {}
    for key, town, name, kind, org, active in spec:
        points[key] = PlaybackPoint(
            township_id=town.id,
            name=name,
            kind=kind,
            organisation_id=orgs[org].id if org else None,
            active=active,
        )
    session.add_all(points.values())
    session.flush()
    w.points = {k: p.id for k, p in points.items()}
    plans = {
        (t1.id, "2026-02"): Plan(township_id=t1.id, month=date(2026, 2, 1)),
        (t1.id, "2026-03"): Plan(township_id=t1.id, month=date(2026, 3, 1)),
        (t1.id, "2026-04"): Plan(township_id=t1.id, month=date(2026, 4, 1)),
        (t2.id, "2026-03"): Plan(township_id=t2.id, month=date(2026, 3, 1)),
        (t3.id, "2026-03"): Plan(township_id=t3.id, month=date(2026, 3, 1)),
    }
    session.add_all(plans.values())
    session.flush()

    def entry(town: Township, point: str, day: str, release: ReleaseSet, ep: Episode) -> PlanEntry:
        plan = plans[(town.id, day[:7])]
        row = PlanEntry(
            plan_id=plan.id,
            release_id=release.id,
            episode_id=ep.id,
            point_id=points[point].id,
            planned_on=date.fromisoformat(day),
        )
        session.add(row)
        session.flush()
        return row

    e = {
        "e0": entry(t1, "P1", "2026-02-20", r0, e1),
        "e1": entry(t1, "P1", "2026-03-10", r1, e1),
        "e2": entry(t1, "P2", "2026-03-12", r1, e2),
        "e3": entry(t1, "P1", "2026-03-20", r1, e2),
        "e4": entry(t1, "P1", "2026-04-05", r2, e3),
        "e5": entry(t2, "P3", "2026-03-15", r1, e1),
        "e6": entry(t3, "P5", "2026-03-11", r1, e1),
        "e7": entry(t3, "P5", "2026-03-25", r1, e2),
    }
    H, M, N = ScreeningOutcome.HELD, ScreeningOutcome.MOVED, ScreeningOutcome.NOT_HELD
    rows = [
        ("s1", a, t1, "P1", "e1", r1, e1, "2026-03-10", H, 40),
        ("s2", a, t1, "P2", "e2", r1, e2, "2026-03-13", M, 25),
        ("s3", a, t1, "P1", "e3", r1, e2, "2026-03-20", N, 0),
        ("s4", a, t2, "P3", "e5", r1, e1, "2026-03-15", H, 30),
        ("s5", a, t1, "P1", None, r1, e1, "2026-04-08", H, 20),
        ("s6", b, t3, "P5", "e6", r1, e1, "2026-03-11", H, 50),
        ("s8", a, t1, "P1", "e0", r0, e1, "2026-02-20", H, 60),
        ("s9", b, t3, "P5", None, r1, e2, "2026-05-02", H, 45),
    ]
    for key, county, town, point, plan_entry, release, ep, day, outcome, viewers in rows:
        s = Screening(
            release_id=release.id,
            county_id=county.id,
            township_id=town.id,
            point_id=points[point].id,
            plan_entry_id=e[plan_entry].id if plan_entry else None,
            episode_id=ep.id,
            screened_on=date.fromisoformat(day),
            place=points[point].name,
            viewers=viewers,
            outcome=outcome,
            reason="停电" if outcome != H else None,
        )
        session.add(s)
        session.flush()
        w.screenings[key] = s.id
    county_report = Screening(  # the county-level grain: no township, point or episode
        release_id=r1.id, county_id=a.id, screened_on=date(2026, 3, 30), place="县礼堂", viewers=100
    )
    session.add(county_report)
    session.flush()
    w.screenings["s7"] = county_report.id
    assessment_rollup.rebuild(session)  # rows made directly, as a bulk load: rebuild the rollup
    return w
