"""The topic taxonomy (理论学习, 党的建设, ...): add, rename, retire and restore, audited."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mam import inputs, search
from mam.audit import AuditAction, ObjectType, record
from mam.errors import Conflict, InvalidInput, NotAllowed, NotFound
from mam.i18n import N_
from mam.models import Role, User
from mam.models.catalogue import Topic, episode_topic
from mam.services.metadata import ensure_topics

MAX_NAME = 100


class TopicService:
    """Changes to the taxonomy; only admins make them. Nothing here commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> list[Topic]:
        """Return every topic, retired ones included, in taxonomy order."""
        ensure_topics(self.session)
        return list(self.session.scalars(select(Topic).order_by(Topic.position)))

    def add(self, name: object, actor: User) -> Topic:
        """Add a topic at the end of the taxonomy."""
        name = self._name(name, actor)
        position = (self.session.scalar(select(func.max(Topic.position))) or 0) + 1
        topic = Topic(name=name, position=position)
        self.session.add(topic)
        self.session.flush()
        record(
            self.session, AuditAction.TOPIC_CREATED, actor, ObjectType.TOPIC, topic.id,
            details={"name": name},
        )  # fmt: skip
        return topic

    def rename(self, topic_id: object, name: object, actor: User) -> Topic:
        """Rename a topic; the episodes tagged with it are found under the new name."""
        topic = self._get(topic_id)
        name = self._name(name, actor, keep=topic)
        if name == topic.name:
            return topic
        before, topic.name = topic.name, name
        tagged = self.session.scalars(
            select(episode_topic.c.episode_id).where(episode_topic.c.topic_id == topic.id)
        ).all()
        search.index_episodes(self.session, list(tagged))
        record(
            self.session, AuditAction.TOPIC_RENAMED, actor, ObjectType.TOPIC, topic.id,
            details={"before": before, "name": name},
        )  # fmt: skip
        return topic

    def set_active(self, topic_id: object, active: bool, actor: User) -> Topic:
        """Retire a topic (no longer offered, kept on tagged episodes) or restore it."""
        topic = self._get(topic_id)
        _require_admin(actor)
        if topic.active != active:
            topic.active = active
            record(
                self.session,
                AuditAction.TOPIC_RESTORED if active else AuditAction.TOPIC_RETIRED,
                actor, ObjectType.TOPIC, topic.id, details={"name": topic.name},
            )  # fmt: skip
        return topic

    def toggle(self, topic_id: object, actor: User) -> Topic:
        """Retire an active topic, restore a retired one."""
        return self.set_active(topic_id, not self._get(topic_id).active, actor)

    def _get(self, topic_id: object) -> Topic:
        topic = self.session.get(Topic, inputs.lenient_id(topic_id) or 0)
        if topic is None:
            raise NotFound(N_("Topic %(id)s does not exist."), params={"id": topic_id})
        return topic

    def _name(self, name: object, actor: User, *, keep: Topic | None = None) -> str:
        _require_admin(actor)
        cleaned = inputs.optional_text(name, "name", MAX_NAME)
        if not cleaned:
            raise InvalidInput(
                N_("Give the topic a name of 1 to 100 characters."), field="name"
            )
        clash = self.session.scalar(select(Topic).where(Topic.name == cleaned))
        if clash is not None and clash is not keep:
            raise Conflict(N_("That topic exists already."), field="name")
        return cleaned


def _require_admin(actor: User) -> None:
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("Only administrators may change the topic taxonomy."))
