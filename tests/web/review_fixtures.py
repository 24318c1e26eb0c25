"""A review world in the web app: the programme's producer, one reviewer per stage."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy import select

from mam.models import Asset, Episode, Programme, Role, User, Version, VersionState
from mam.runtime import Runtime
from mam.services.review import ReviewService
from mam.services.users import UserService
from tests.web.conftest import PASSWORD, csrf_from

MEDIA_INFO = {
    "container": "mov,mp4,m4a,3gp,3g2,mj2",
    "format_long_name": "QuickTime / MOV",
    "duration": 10.0,
    "size": 1,
    "bit_rate": 1,
    "video": [],
    "audio": [],
    "subtitles": 0,
}


@dataclass
class ReviewWorld:
    runtime: Runtime
    client: FlaskClient
    login: Callable[[str], FlaskClient]
    version_id: int
    episode_id: int

    def state(self, version_id: int | None = None) -> VersionState:
        with self.runtime.db.session() as s:
            return s.get_one(Version, version_id or self.version_id).state

    def as_user(self, username: str) -> FlaskClient:
        self.client.post("/logout", data={"csrf_token": self.token()})
        self.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        return self.login(username)

    def token(self, url: str = "/account") -> str:
        response = self.client.get(url)
        html = response.get_data(as_text=True)
        response.close()
        return csrf_from(html) if 'name="csrf_token"' in html else ""

    def post(self, url: str, data: dict[str, str] | None = None, *, csrf: bool = True) -> tuple:
        payload = dict(data or {})
        if csrf:
            payload["csrf_token"] = self.token(f"/review/versions/{self.version_id}")
        response = self.client.post(url, data=payload)
        result = (response.status_code, response.get_data(as_text=True))
        response.close()
        return result

    def shown(self) -> dict[str, str]:
        """Return the stage_id and lock_version the review page's forms carry (or would)."""
        response = self.client.get(f"/review/versions/{self.version_id}")
        html = response.get_data(as_text=True)
        response.close()
        with self.runtime.db.session() as s:
            v = s.get_one(Version, self.version_id)
            review = ReviewService(s)
            stage = review.next_stage(v) or review.stages()[0]
            fields = {"stage_id": str(stage.id), "lock_version": str(v.lock_version)}
        for name in fields:
            found = re.search(rf'name="{name}" value="(\d+)"', html)
            if found:
                fields[name] = found.group(1)
        return fields

    def decide(self, act: str, data: dict[str, str] | None = None) -> tuple:
        """POST a review decision (sign, request-changes) as the page's form sends it."""
        return self.post(
            f"/review/versions/{self.version_id}/{act}", {**self.shown(), **(data or {})}
        )

    def add_version(self, state: VersionState = VersionState.READY) -> int:
        """Add the next version of the episode, uploaded by the producer."""
        with self.runtime.db.session() as s:
            return add_version(s, self.episode_id, state)


def add_version(s, episode_id: int, state: VersionState) -> int:  # type: ignore[no-untyped-def]
    producer = s.scalar(select(User).where(User.username == "producer"))
    episode = s.get_one(Episode, episode_id)
    sha = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    v = Version(
        episode=episode,
        number=len(episode.versions) + 1,
        state=state,
        uploaded_by_id=producer.id,
        asset=Asset(
            sha256=sha,
            storage_key=f"originals/{sha}",
            size=1,
            original_filename="a.mp4",
            media_info=MEDIA_INFO,
        ),
    )
    s.add(v)
    s.commit()
    return v.id


def make_review_world(
    runtime: Runtime,
    client: FlaskClient,
    login: Callable[[str], FlaskClient],
    title: str = "乡村振兴 第1集",
) -> ReviewWorld:
    with runtime.db.session() as s:
        users = UserService(s)
        users.create("reviewer1", PASSWORD, [Role.REVIEWER], display_name="李审片")
        users.create("reviewer2", PASSWORD, [Role.REVIEWER], display_name="王审片")
        review = ReviewService(s)
        review.set_grants(users.by_username("reviewer1"), ["初审"])  # type: ignore[arg-type]
        review.set_grants(users.by_username("reviewer2"), ["终审"])  # type: ignore[arg-type]
        producer = users.by_username("producer")
        programme = Programme(name="时代风采", producer_id=producer.id)  # type: ignore[union-attr]
        episode = Episode(programme=programme, title=title)
        s.add_all([programme, episode])
        s.commit()
        episode_id = episode.id
        version_id = add_version(s, episode_id, VersionState.READY)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return ReviewWorld(runtime, client, login, version_id, episode_id)
