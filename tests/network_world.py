"""A small playback network for tests: two counties, townships, points, received films."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from mam.models import County, Role, User, VersionState, utcnow
from mam.models.network import Organisation, PlaybackPoint, PointKind, Township
from mam.models.release import Receipt, ReleaseItem, ReleaseSet, ReleaseState, ReleaseTarget
from mam.services import assessment_rollup
from tests import factories


@dataclass
class World:
    a: County
    b: County
    admin: User
    county_a: User
    county_b: User
    t1: Township  # county a
    t2: Township  # county a
    tb: Township  # county b
    p1: PlaybackPoint  # t1, village
    p2: PlaybackPoint  # t1, community
    p3: PlaybackPoint  # t2
    pb: PlaybackPoint  # tb
    township1: User
    township2: User
    received: ReleaseSet  # published to a, receipt confirmed: episodes e1, e2
    announced: ReleaseSet  # published to a, neither received nor downloaded: e3
    withdrawn: ReleaseSet  # withdrawn, had been received: e4
    e1: int
    e2: int
    e3: int
    e4: int


def _release(
    session: Session, name: str, county: County, state: ReleaseState, n: int
) -> ReleaseSet:
    release = ReleaseSet(
        name=name, state=state, published_at=utcnow(), publish_date=date(2026, 11, 1)
    )
    for i in range(n):
        v = factories.version(session, VersionState.RELEASED, title=f"{name} 第{i + 1}集")
        release.items.append(ReleaseItem(episode_id=v.episode_id, version_id=v.id, position=i))
    release.targets.append(ReleaseTarget(county_id=county.id))
    session.add(release)
    session.flush()
    return release


def _user(
    session: Session, role: Role, county: County | None, township: Township | None = None
) -> User:
    u = factories.user(session, role)
    u.county_id = county.id if county else None
    u.township_id = township.id if township else None
    return u


def build(session: Session) -> World:
    """Create the world and commit it."""
    a, b = County(code="a", name="甲县"), County(code="b", name="乙县")
    session.add_all([a, b])
    session.flush()
    t1 = Township(county_id=a.id, name="城关镇")
    t2 = Township(county_id=a.id, name="河口乡")
    tb = Township(county_id=b.id, name="乙镇")
    session.add_all([t1, t2, tb])
    session.flush()
    o1 = Organisation(township_id=t1.id, name="东村", kind=PointKind.VILLAGE)
    o2 = Organisation(township_id=t1.id, name="西村", kind=PointKind.VILLAGE)
    o3 = Organisation(township_id=t1.id, name="新华社区", kind=PointKind.COMMUNITY)
    session.add_all([o1, o2, o3])
    session.flush()
    p1 = PlaybackPoint(
        township_id=t1.id, name="东村播放点", kind=PointKind.VILLAGE, organisation_id=o1.id
    )
    p2 = PlaybackPoint(
        township_id=t1.id, name="新华社区播放点", kind=PointKind.COMMUNITY, organisation_id=o3.id
    )
    p3 = PlaybackPoint(township_id=t2.id, name="河口村播放点", kind=PointKind.VILLAGE)
    pb = PlaybackPoint(township_id=tb.id, name="乙村播放点", kind=PointKind.VILLAGE)
    session.add_all([p1, p2, p3, pb])
    received = _release(session, "2026年第11期", a, ReleaseState.PUBLISHED, 2)
    announced = _release(session, "2026年第12期", a, ReleaseState.PUBLISHED, 1)
    withdrawn = _release(session, "2026年第10期", a, ReleaseState.WITHDRAWN, 1)
    session.add_all(
        [
            Receipt(release_id=received.id, county_id=a.id),
            Receipt(release_id=withdrawn.id, county_id=a.id),
        ]
    )
    world = World(
        a=a,
        b=b,
        admin=_user(session, Role.ADMIN, None),
        county_a=_user(session, Role.COUNTY, a),
        county_b=_user(session, Role.COUNTY, b),
        t1=t1,
        t2=t2,
        tb=tb,
        p1=p1,
        p2=p2,
        p3=p3,
        pb=pb,
        township1=_user(session, Role.TOWNSHIP, a, t1),
        township2=_user(session, Role.TOWNSHIP, a, t2),
        received=received,
        announced=announced,
        withdrawn=withdrawn,
        e1=received.items[0].episode_id,
        e2=received.items[1].episode_id,
        e3=announced.items[0].episode_id,
        e4=withdrawn.items[0].episode_id,
    )
    # the points and organisations were made directly, as a bulk load: count them
    assessment_rollup.rebuild_township_network(session)
    session.commit()
    return world
