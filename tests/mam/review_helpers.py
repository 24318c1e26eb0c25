"""A small review world for domain tests: a programme, its producer, two stage reviewers."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from mam.models import Asset, Episode, Programme, Role, User, Version, VersionState
from mam.models.review import ReviewDecision
from mam.services.review import ReviewService
from tests import factories


@dataclass
class World:
    session: Session
    producer: User
    first: User  # may sign 初审
    final: User  # may sign 终审
    programme: Programme
    episode: Episode

    @property
    def review(self) -> ReviewService:
        return ReviewService(self.session)

    def version(self, state: VersionState = VersionState.READY) -> Version:
        """Add the episode's next version, uploaded by the producer."""
        number = max((v.number for v in self.episode.versions), default=0) + 1
        sha = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
        v = Version(
            episode=self.episode,
            number=number,
            state=state,
            uploaded_by_id=self.producer.id,
            asset=Asset(
                sha256=sha,
                storage_key=f"originals/{sha}",
                size=1,
                original_filename="a.mp4",
                media_info={},
            ),
        )
        self.session.add(v)
        self.session.commit()
        return v

    def sign(
        self, v: Version, user: User, *, review: ReviewService | None = None, **kw: Any
    ) -> ReviewDecision:
        """Sign as the review page does: the stage and lock_version it shows (or ``kw``)."""
        review = review or self.review
        kw.setdefault("stage_id", self.shown_stage(v))
        kw.setdefault("expected_lock_version", v.lock_version)
        return review.sign(v.id, user, **kw)

    def request_changes(self, v: Version, user: User, reason: str, **kw: Any) -> ReviewDecision:
        """Request changes as the review page does (its stage and lock_version)."""
        kw.setdefault("stage_id", self.shown_stage(v))
        kw.setdefault("expected_lock_version", v.lock_version)
        return self.review.request_changes(v.id, user, reason, **kw)

    def shown_stage(self, v: Version) -> int:
        """Return the id of the stage the page shows as current (the first one if none)."""
        stage = self.review.next_stage(v)
        return stage.id if stage is not None else self.review.stages()[0].id

    def in_review(self) -> Version:
        v = self.version()
        self.review.submit(v.id, self.producer)
        return v


def make_world(session: Session) -> World:
    producer = factories.user(session, Role.PRODUCER, username=f"p{uuid.uuid4().hex[:6]}")
    first = factories.user(session, Role.REVIEWER, username=f"a{uuid.uuid4().hex[:6]}")
    final = factories.user(session, Role.REVIEWER, username=f"b{uuid.uuid4().hex[:6]}")
    programme = Programme(name=f"时代风采{uuid.uuid4().hex[:4]}", producer_id=producer.id)
    episode = Episode(programme=programme, title="乡村振兴 第1集")
    session.add_all([programme, episode])
    session.commit()
    review = ReviewService(session)
    review.set_grants(first, ["初审"])
    review.set_grants(final, ["终审"])
    return World(session, producer, first, final, programme, episode)
