"""The review chain's configuration: its stages, who may sign which, who may edit what."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.audit import AuditAction, ObjectType, record
from mam.errors import InvalidInput, NotFound
from mam.messages import catalogue, review
from mam.models import Episode, Programme, Role, User
from mam.models.review import ProgrammeEditor, ReviewerStage, ReviewStage
from mam.services.edit_rights import may_edit_programme

DEFAULT_STAGES: list[tuple[str, str]] = [("first", "初审"), ("final", "终审")]
__all__ = ["ReviewChain", "editors_of", "episodes_of", "may_edit_programme", "save_programme"]


class ReviewChain:
    """The stages of the chain and the reviewers' grants (read and configure)."""

    session: Session

    def stages(self) -> list[ReviewStage]:
        """Return the active stages in signing order (creating 初审, 终审 if none exist)."""
        if self.session.scalar(select(ReviewStage.id).limit(1)) is None:
            for position, (code, name) in enumerate(DEFAULT_STAGES, 1):
                self.session.add(ReviewStage(code=code, name=name, position=position))
            self.session.flush()
        return list(
            self.session.scalars(
                select(ReviewStage).where(ReviewStage.active).order_by(ReviewStage.position)
            )
        )

    def stage_by_name(self, name: str) -> ReviewStage:
        """Return the active stage called ``name`` (or with that code)."""
        for stage in self.stages():
            if name in (stage.name, stage.code):
                return stage
        known = ", ".join(s.name for s in self.stages())
        raise NotFound(review.STAGE_MISSING, params={"stage": name, "known": known})

    def set_chain(self, names: list[str], actor: User | None = None) -> list[ReviewStage]:
        """Make ``names`` the review chain, in order; other stages become inactive."""
        names = [n.strip() for n in names if n.strip()]
        if not names or len(set(names)) != len(names):
            raise InvalidInput(review.CHAIN_EMPTY)
        before = [s.name for s in self.stages()]
        existing = {s.name: s for s in self.session.scalars(select(ReviewStage))}
        for stage in existing.values():
            stage.active = False
            stage.position = stage.position + 1000  # out of the way while renumbering
        for position, name in enumerate(names, 1):
            stage = existing.get(name) or ReviewStage(code=name[:32], name=name[:64])
            stage.position, stage.active = position, True
            self.session.add(stage)
        self._audit(
            actor, AuditAction.REVIEW_CHAIN_CHANGED, ObjectType.REVIEW_STAGE, None,
            before=before, after=names,
        )  # fmt: skip
        self.session.flush()
        return self.stages()

    def grants(self, user: User) -> list[ReviewStage]:
        """Return the active stages ``user`` may sign."""
        rows = self.session.scalars(select(ReviewerStage).where(ReviewerStage.user_id == user.id))
        return sorted((r.stage for r in rows if r.stage.active), key=lambda s: s.position)

    def set_grants(self, user: User, names: list[str], actor: User | None = None) -> None:
        """Replace the stages ``user`` may sign (audited); the user must be a reviewer."""
        stages = [self.stage_by_name(n) for n in names]
        if stages and not user.has_role(Role.REVIEWER):
            raise InvalidInput(review.NOT_REVIEWER, params={"user": user.username})
        rows = list(
            self.session.scalars(select(ReviewerStage).where(ReviewerStage.user_id == user.id))
        )
        before = sorted(r.stage.name for r in rows)
        for row in rows:
            self.session.delete(row)
        self.session.flush()
        for stage in stages:
            self.session.add(ReviewerStage(user_id=user.id, stage_id=stage.id))
        after = sorted({s.name for s in stages})
        self._audit(
            actor, AuditAction.STAGES_CHANGED, ObjectType.USER, user.id, before=before, after=after
        )
        self.session.flush()

    def _audit(
        self,
        actor: User | None,
        action: AuditAction,
        object_type: ObjectType,
        object_id: int | None,
        *,
        reason: str | None = None,
        **details: Any,
    ) -> None:
        record(self.session, action, actor, object_type, object_id, reason=reason, details=details)


def episodes_of(session: Session, user: User) -> list[Episode]:
    """Return the episodes of the programmes ``user`` may edit."""
    programmes = session.scalars(select(Programme)).all()
    return [ep for p in programmes if may_edit_programme(session, user, p) for ep in p.episodes]


def save_programme(
    session: Session,
    name: str,
    producer: User | None,
    editors: list[User],
    actor: User | None,
    *,
    programme: Programme | None = None,
) -> Programme:
    """Create or update a programme with its responsible producer and editors (audited)."""
    from mam.services.ingest import MAX_PROGRAMME, clean_text  # noqa: PLC0415

    name = clean_text(name, "programme", MAX_PROGRAMME)
    for person in [p for p in [producer, *editors] if p is not None]:
        if not person.has_role(Role.PRODUCER):
            raise InvalidInput(
                catalogue.NOT_PRODUCER, params={"user": person.username}, rule="not_producer"
            )
    clash = session.scalar(select(Programme).where(Programme.name == name))
    if clash is not None and clash is not programme:
        raise InvalidInput(catalogue.PROGRAMME_EXISTS, params={"programme": name}, rule="exists")
    before: dict[str, Any] = {}
    if programme is None:
        programme = Programme(name=name)
        session.add(programme)
    else:
        before = {"name": programme.name, "producer_id": programme.producer_id}
    programme.name = name
    programme.producer_id = producer.id if producer else None
    session.flush()
    rows = session.scalars(
        select(ProgrammeEditor).where(ProgrammeEditor.programme_id == programme.id)
    ).all()
    before["editors"] = sorted(r.user_id for r in rows)
    for row in rows:
        session.delete(row)
    session.flush()
    for editor in {e.id: e for e in editors}.values():
        session.add(ProgrammeEditor(programme_id=programme.id, user_id=editor.id))
    record(
        session,
        AuditAction.PROGRAMME_SAVED,
        actor,
        ObjectType.PROGRAMME,
        programme.id,
        details={
            "before": before,
            "name": name,
            "producer_id": programme.producer_id,
            "editors": sorted({e.id for e in editors}),
        },
    )
    session.flush()
    return programme


def editors_of(session: Session, programme: Programme) -> list[User]:
    """Return the producers who may edit ``programme`` besides its responsible producer."""
    rows = session.scalars(
        select(ProgrammeEditor).where(ProgrammeEditor.programme_id == programme.id)
    )
    return [r.user for r in rows]
