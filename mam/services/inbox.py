"""What awaits a user: versions to review at their stage, changes requested on their episodes."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.models import Role, User, Version, VersionState
from mam.models.fixity import FixityObject
from mam.services.review import ReviewService
from mam.services.review_chain import episodes_of


@dataclass
class Inbox:
    """A user's waiting work, newest first."""

    to_review: list[Version] = field(default_factory=list)
    changes_requested: list[Version] = field(default_factory=list)
    to_submit: list[Version] = field(default_factory=list)
    # Admins: stored objects the fixity audit found changed or missing.
    damaged: list[FixityObject] = field(default_factory=list)
    # A reviewer no administrator has granted a stage: nothing can ever wait for them.
    no_stages: bool = False

    @property
    def count(self) -> int:
        """Return how many items await the user."""
        return (
            len(self.to_review)
            + len(self.changes_requested)
            + len(self.to_submit)
            + len(self.damaged)
        )


def inbox_for(session: Session, user: User) -> Inbox:
    """Collect what awaits ``user``."""
    box = Inbox()
    review = ReviewService(session)
    if user.has_role(Role.REVIEWER):
        box.no_stages = not review.grants(user)
        for version in session.scalars(
            select(Version)
            .where(Version.state == VersionState.IN_REVIEW)
            .order_by(Version.updated_at.desc())
        ):
            if review.can(version, user)["sign"] or review.can(version, user)["waive"]:
                box.to_review.append(version)
    if user.has_role(Role.PRODUCER):
        for episode in episodes_of(session, user):
            latest = episode.latest_version
            if latest is None:
                continue
            if latest.state is VersionState.CHANGES_REQUESTED:
                box.changes_requested.append(latest)
            elif latest.state is VersionState.READY:
                box.to_submit.append(latest)
    if user.has_role(Role.ADMIN):
        box.damaged = list(
            session.scalars(
                select(FixityObject)
                .where(FixityObject.damaged.is_(True))
                .order_by(FixityObject.storage_key)
            )
        )
    return box
