"""A real film for online learning: processed by the pipeline (HLS ladder), approved,
published to county c1; a learner in c1 and one in c2; on local storage or S3 (moto)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mam import migrate
from mam.models import Role, Version, VersionState
from mam.runtime import Runtime, build_runtime
from mam.services.learners import LearnerService
from mam.services.releases import ReleaseService
from mam.services.subtitles import SubtitleService
from mam.services.users import UserService
from tests.conftest import make_settings
from tests.web.conftest import PASSWORD, process_now
from workers.tasks.chunks import run_ladder

LEARNER1 = ("13800000001", "long password one")  # county c1
LEARNER2 = ("13800000002", "long password two")  # county c2
CORS = {  # the bucket rule of docker/README.md: hls.js reads segments with XHR
    "CORSRules": [
        {
            "AllowedOrigins": ["*"],
            "AllowedMethods": ["GET", "HEAD"],
            "AllowedHeaders": ["Range"],
            "ExposeHeaders": ["Content-Length", "Content-Range"],
        }
    ]
}


@dataclass
class LearningSite:
    runtime: Runtime
    version_id: int
    episode_id: int


def hls_runtime(request: pytest.FixtureRequest, home: Path) -> Runtime:
    """A migrated runtime on local storage or on a fresh moto bucket (with CORS)."""
    if request.param == "s3":
        settings = make_settings(
            home,
            storage_backend="s3",
            s3_bucket=f"learn-{uuid.uuid4().hex[:8]}",
            s3_endpoint_url=request.getfixturevalue("moto_endpoint"),
            s3_create_bucket=True,
        )
    else:
        settings = make_settings(home)
    migrate.upgrade(settings.database_url)
    runtime = build_runtime(settings)
    if request.param == "s3":
        s3: Any = runtime.storage
        s3.client.put_bucket_cors(Bucket=s3.bucket, CORSConfiguration=CORS)
    return runtime


def publish_film(
    runtime: Runtime, film: Path, title: str, *, vtt: str | None = None
) -> LearningSite:
    """Process ``film`` for real (with subtitles ``vtt``), approve it, publish it to c1;
    make the two learners."""
    with runtime.db.session() as s:
        users = UserService(s)
        c1 = users.ensure_county("c1", "甲县")
        c2 = users.ensure_county("c2", "乙县")
        staff1 = users.create("staff1", PASSWORD, [Role.COUNTY], county_code="c1")
        staff2 = users.create("staff2", PASSWORD, [Role.COUNTY], county_code="c2")
        users.create("publisher", PASSWORD, [Role.PUBLISHER])
        users.create("admin", PASSWORD, [Role.ADMIN])
        learners = LearnerService(s)
        learners.create(c1.id, "王学员", *LEARNER1, staff1)
        learners.create(c2.id, "李学员", *LEARNER2, staff2)
        s.commit()
    vid = process_now(runtime, film, title=title)
    with runtime.db.session() as s:
        version = s.get_one(Version, vid)
        if vtt is not None:
            admin = UserService(s).by_username("admin")
            service = SubtitleService(s, runtime.storage)
            service.attach(version.episode, vtt.encode(), "字幕.vtt", "zh", admin)
        version.state = VersionState.APPROVED  # the review chain is not what is tested here
        s.commit()
        # Subtitles added after processing: the playback copy that burns them in is made
        # again by the ladder job they queued (mam.services.subtitle_burn), run here.
        for job in service.reburned if vtt is not None else []:
            assert run_ladder(runtime, vid, job.id, "test")[0] == "ready"
        s.expire_all()
        publisher = UserService(s).by_username("publisher")
        assert publisher is not None
        releases = ReleaseService(s)
        release = releases.create("2026年第12期", publisher)
        releases.add_version(release, vid, publisher)
        releases.set_targets(release, [c1.id], publisher)
        releases.publish(release, publisher)
        s.commit()
        return LearningSite(runtime, vid, version.episode_id)
