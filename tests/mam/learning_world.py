"""A small world for online learning: two counties, released films with a `web` ladder."""

from __future__ import annotations

import io
from dataclasses import dataclass

from openpyxl import Workbook
from sqlalchemy.orm import Session

from mam.models import Rendition, Role, User, Version, VersionState
from mam.models.release import ReleaseSet
from mam.services.learners import LearnerService
from mam.services.releases import ReleaseService
from mam.services.users import UserService
from tests import factories

HLS = "application/vnd.apple.mpegurl"


@dataclass
class LearningWorld:
    c1: int
    c2: int
    staff1: User  # county staff of c1
    learner1: User  # learner of c1
    learner2: User  # learner of c2
    shown: Version  # in a set published to c1, with a web ladder (100 s)
    everywhere: Version  # in a set published to all counties
    no_ladder: Version  # published to c1, but only a proxy
    draft: Version  # in a draft set aimed at c1
    withdrawn: Version  # in a withdrawn set aimed at c1
    other: Version  # published to c2 only


def released_version(
    s: Session, title: str, *, web: bool = True, duration: float = 100.0
) -> Version:
    v = factories.version(s, VersionState.APPROVED, title=title)
    v.asset.media_info = {"duration": duration}
    if web:
        v.renditions.append(
            Rendition(profile="web", storage_key=f"renditions/{v.id}/web/master.m3u8",
                      mime_type=HLS, size=1, duration=duration, media_info={"rungs": []})
        )  # fmt: skip
    s.flush()
    return v


def build(s: Session) -> LearningWorld:
    users = UserService(s)
    c1 = users.ensure_county("c1", "甲县")
    c2 = users.ensure_county("c2", "乙县")
    publisher = factories.user(s, Role.PUBLISHER)
    staff1 = factories.user(s, Role.COUNTY, username="staff1")
    staff1.county_id = c1.id
    staff2 = factories.user(s, Role.COUNTY, username="staff2")
    staff2.county_id = c2.id
    s.flush()
    learners = LearnerService(s)
    learner1 = learners.create(c1.id, "王学员", "13800000001", "long password 1", staff1)
    learner2 = learners.create(c2.id, "李学员", "13800000002", "long password 2", staff2)
    releases = ReleaseService(s)
    shown = released_version(s, "乡村振兴 第1集")
    no_ladder = released_version(s, "只有代理", web=False)
    draft = released_version(s, "草稿里的")
    withdrawn = released_version(s, "撤回的")
    everywhere = released_version(s, "全县通发", duration=60.0)
    other = released_version(s, "乙县专供")

    def release(name: str, versions: list[Version], counties: list[int] | None) -> ReleaseSet:
        r = releases.create(name, publisher)
        for v in versions:
            releases.add_version(r, v.id, publisher)
        if counties is None:
            r.all_counties = True
        else:
            releases.set_targets(r, counties, publisher)
        return r

    releases.publish(release("2026年第1期", [shown, no_ladder], [c1.id]), publisher)
    release("2026年第2期", [draft], [c1.id])
    gone = release("2026年第3期", [withdrawn], [c1.id])
    releases.publish(gone, publisher)
    releases.withdraw(gone, "版权到期", publisher)
    releases.publish(release("2026年第4期", [everywhere], None), publisher)
    releases.publish(release("2026年第5期", [other], [c2.id]), publisher)
    s.commit()
    return LearningWorld(
        c1.id, c2.id, staff1, learner1.learner.user, learner2.learner.user,
        shown, everywhere, no_ladder, draft, withdrawn, other,
    )  # fmt: skip


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    """Return a workbook whose first sheet holds ``rows``."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
