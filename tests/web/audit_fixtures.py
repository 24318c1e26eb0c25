"""An audit log with a day's acts in it: a submission, a release, a screening, accounts, topics,
and rows written before the actions were enumerated."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from mam.models import (
    Asset,
    AuditEvent,
    County,
    Episode,
    Programme,
    Role,
    User,
    Version,
    VersionState,
)
from mam.models.release import ReleasePackage
from mam.runtime import Runtime
from mam.services.county_distribution import CountyDistribution
from mam.services.releases import ReleaseService
from mam.services.review import ReviewService
from mam.services.topics import TopicService
from mam.services.users import UserService

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Filled:
    version_id: int
    release_id: int


def _version(episode: Episode, number: int, producer: User, state: VersionState) -> Version:
    sha = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    return Version(
        episode=episode, number=number, state=state, uploaded_by_id=producer.id,
        asset=Asset(sha256=sha, storage_key=f"originals/{sha}", size=1,
                    original_filename="a.mp4", media_info={}),
    )  # fmt: skip


def fill_audit_log(runtime: Runtime) -> Filled:
    """Do a day's work through the services (each act audited); return the ids involved."""
    with runtime.db.session() as s:
        users = UserService(s)
        admin = s.scalar(select(User).where(User.username == "admin")) or users.create(
            "admin", PASSWORD, [Role.ADMIN], display_name="王管理"
        )
        zhang = users.create("zhang", PASSWORD, [Role.PRODUCER], display_name="张编导")
        li = users.create("li", PASSWORD, [Role.PUBLISHER], display_name="李发布")
        county = s.scalar(select(County).where(County.code == "c1")) or users.ensure_county(
            "c1", "甲县", actor=admin
        )
        clerk = users.create("clerk", PASSWORD, [Role.COUNTY], county_code=county.code,
                             display_name="赵县管")  # fmt: skip
        users.set_roles(li, {Role.PUBLISHER, Role.REVIEWER}, actor=admin)
        programme = Programme(name="乡村振兴", producer_id=zhang.id)
        episode = Episode(programme=programme, title="第1集")
        s.add_all([programme, episode])
        s.flush()
        s.add(_version(episode, 1, zhang, VersionState.SUPERSEDED))
        second = _version(episode, 2, zhang, VersionState.READY)
        s.add(second)
        s.commit()
        ReviewService(s).submit(second.id, zhang)
        s.commit()
        # An approved episode of another programme, released to the county.
        other = Episode(programme=Programme(name="时代风采"), title="示范片")
        approved = _version(other, 1, zhang, VersionState.APPROVED)
        s.add(approved)
        s.commit()
        releases = ReleaseService(s)
        release = releases.create("2026年第12期", li)
        releases.add_version(release, approved.id, li)
        releases.set_targets(release, [county.id], li)
        releases.publish(release, li)
        package = s.scalar(select(ReleasePackage).where(ReleasePackage.release_id == release.id))
        assert package is not None
        releases.rebuild_package(package.id, li)
        county_side = CountyDistribution(s)
        county_side.confirm_receipt(release, clerk)
        county_side.report_screening(
            release, clerk, screened_on=date(2026, 11, 30), place="城关镇", viewers=120
        )
        topics = TopicService(s)
        topic = topics.add("乡村振兴", admin)
        topics.rename(topic.id, "乡村振兴战略", admin)
        s.commit()
        # Rows written before the actions were enumerated, as the old code wrote them.
        s.add_all([
            AuditEvent(actor_id=li.id, action="release_published", object_type="release_set",
                       object_id=release.id, to_state="published", details={}),
            AuditEvent(actor_id=admin.id, action="programme_saved", object_type="programme",
                       object_id=programme.id, details={"name": "乡村振兴"}),
            AuditEvent(actor_id=admin.id, action="roles_changed", object_type="user",
                       object_id=9999, details={"roles": ["reviewer"]}),
            AuditEvent(actor_id=zhang.id, action="request_changes", object_type="version",
                       object_id=second.id, from_state="in_review",
                       to_state="changes_requested", reason='=HYPERLINK("http://x")'),
        ])  # fmt: skip
        s.commit()
        return Filled(version_id=second.id, release_id=release.id)
