"""Review: submit, sign stages, request changes, waive QC; the server-side rules of the chain."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from mam.audit import AuditAction, ObjectType
from mam.errors import Conflict, InvalidInput, NotAllowed, NotFound
from mam.i18n import N_
from mam.messages import catalogue, review
from mam.models import AuditEvent, Role, User, Version, VersionState, utcnow
from mam.models.review import (
    DecisionKind,
    ProgrammeEditor,
    QcWaiver,
    ReviewDecision,
    ReviewerStage,
    ReviewStage,
)
from mam.services.edit_rights import may_edit_programme, require_edit
from mam.services.ladder import release_held
from mam.services.notify import Notice, Notifier, NullNotifier
from mam.services.review_chain import ReviewChain
from mam.uow import after_commit
from mam.workflow import SELF_APPROVAL_EVENTS, TRANSITIONS, Event, allowed_events, transition

MAX_REASON = 2000
S = VersionState
# QC check: the failed findings of a version's QC report (empty when it passed or has none).
QcCheck = Callable[[Session, Version], list[Any]]


def qc_failures(session: Session, version: Version) -> list[Any]:
    """Return the failed QC findings recorded for ``version`` by the processing pipeline:
    each its code, template and parameters (shown translated), or a sentence (older rows)."""
    report = getattr(version, "qc_report", None)  # present once processing writes QC reports
    if report is None:
        return []
    findings = getattr(report, "findings", None) or []
    return [
        _said(f) if isinstance(f, dict) else str(f)
        for f in findings
        if not isinstance(f, dict) or f.get("severity", "fail") in ("fail", "error")
    ]


def _said(finding: dict[str, Any]) -> dict[str, Any] | str:
    if not finding.get("template"):
        return str(finding.get("message") or finding.get("check") or finding)
    keys = ("code", "template", "params", "message")
    return {k: finding[k] for k in keys if k in finding}


def clean_reason(reason: str | None, field: str = "reason") -> str | None:
    """Trim a reason; refuse one longer than MAX_REASON."""
    text = (reason or "").strip()
    if len(text) > MAX_REASON:
        raise InvalidInput(
            review.TOO_LONG, params={"limit": MAX_REASON}, rule="too_long", limit=MAX_REASON
        )
    return text or None


class ReviewService(ReviewChain):
    """The review chain; every public act commits, or rolls back and raises a MamError."""

    def __init__(
        self,
        session: Session,
        storage: object | None = None,
        *,
        qc: QcCheck = qc_failures,
        notifier: Notifier | None = None,
    ) -> None:
        self.session = session
        self.storage = storage
        self.qc = qc
        self.notifier = notifier or NullNotifier()

    # --- reading a version's review ------------------------------------------------------

    def version(self, version_id: int) -> Version:
        """Return a version or raise NotFound."""
        version = self.session.get(Version, version_id)
        if version is None:
            raise NotFound(catalogue.VERSION_MISSING, params={"id": version_id})
        return version

    def decisions(self, version: Version) -> list[ReviewDecision]:
        """Return every decision on ``version``, oldest first (voided ones included)."""
        return list(
            self.session.scalars(
                select(ReviewDecision)
                .where(ReviewDecision.version_id == version.id)
                .order_by(ReviewDecision.id)
            )
        )

    def signatures(self, version: Version) -> list[ReviewDecision]:
        """Return the valid stage signatures of ``version``."""
        return [d for d in self.decisions(version) if d.kind is DecisionKind.SIGNED and d.valid]

    def next_stage(self, version: Version) -> ReviewStage | None:
        """Return the first stage not yet signed, while the version is in review."""
        if version.state is not S.IN_REVIEW:
            return None
        signed = {d.stage_id for d in self.signatures(version)}
        return next((s for s in self.stages() if s.id not in signed), None)

    def newer_version(self, version: Version) -> Version | None:
        """Return the newest version of the episode if it is newer than ``version``."""
        latest = self.session.scalar(
            select(Version)
            .where(Version.episode_id == version.episode_id)
            .order_by(Version.number.desc())
            .limit(1)
        )
        return latest if latest is not None and latest.number > version.number else None

    def qc_status(self, version: Version) -> tuple[list[Any], QcWaiver | None]:
        """Return the version's failed QC findings and the waiver covering them, if any."""
        waiver = self.session.scalar(
            select(QcWaiver).where(QcWaiver.version_id == version.id).order_by(QcWaiver.id.desc())
        )
        return self.qc(self.session, version), waiver

    def can(self, version: Version, user: User) -> dict[str, bool]:
        """Say which review acts ``user`` may take on ``version`` now (for showing buttons).

        Which events the version's state and the user's roles allow comes from the
        workflow's table (``allowed_events``); what is added here is what the table cannot
        know: the programme's editors, the review stage grants, earlier signatures, QC.
        """
        acts = {"submit": False, "sign": False, "request_changes": False, "waive": False}
        if self.newer_version(version) is not None:
            return acts
        events = set(allowed_events(version.state, user.roles))
        if Event.SUBMIT in events:
            acts["submit"] = may_edit_programme(self.session, user, version.episode.programme)
        stage = self.next_stage(version)
        if stage is None:
            return acts
        sign = Event.APPROVE if stage.id == self.stages()[-1].id else Event.SIGN_STAGE
        granted = stage.id in {s.id for s in self.grants(user)}
        signed_before = any(d.reviewer_id == user.id for d in self.signatures(version))
        own = sign in SELF_APPROVAL_EVENTS and version.uploaded_by_id == user.id
        findings, waiver = self.qc_status(version)
        may_sign = sign in events and granted
        acts["sign"] = may_sign and not signed_before and not own and (not findings or bool(waiver))
        acts["request_changes"] = Event.REQUEST_CHANGES in events and granted
        acts["waive"] = may_sign and bool(findings) and waiver is None
        return acts

    # --- acts -----------------------------------------------------------------------------

    def submit(
        self, version_id: int, actor: User, *, expected_lock_version: int | None = None
    ) -> AuditEvent:
        """Send a ready version of a programme ``actor`` may edit into the first stage."""
        with self._act():
            version = self.version(version_id)
            self._refuse_superseded(version)
            if actor.has_role(Role.PRODUCER, Role.ADMIN):
                require_edit(self.session, actor, version.episode.programme)
            first = self.stages()[0]
            self.supersede_older(version)
            audit = transition(
                self.session,
                version,
                Event.SUBMIT,
                actor,
                expected_lock_version=expected_lock_version,
                details={"stage": first.name, "sha256": version.sha256},
            )
        self._notify_stage(version, first)
        return audit

    def sign(
        self,
        version_id: int,
        actor: User,
        *,
        stage_id: int | None,
        expected_lock_version: int | None,
        sha256: str | None = None,
    ) -> ReviewDecision:
        """Sign the stage ``stage_id`` of the version as last seen at ``expected_lock_version``.

        Both are required: a decision names the stage and the state it was aimed at, so a
        signature meant for 初审 can never land on 终审 after someone else signed first.
        """
        with self._act():
            version, stage = self._reviewable(version_id, actor, stage_id, expected_lock_version)
            if any(d.reviewer_id == actor.id for d in self.signatures(version)):
                raise NotAllowed(review.TWO_STAGES, rule="two_stages")
            if sha256 is not None and sha256 != version.sha256:
                raise Conflict(review.SHA256, rule="sha256")
            findings, waiver = self.qc_status(version)
            if findings and waiver is None:
                raise NotAllowed(review.QC_BLOCKS, params={"findings": findings}, rule="qc")
            last = stage.id == self.stages()[-1].id
            decision = ReviewDecision(
                version_id=version.id,
                stage_id=stage.id,
                reviewer_id=actor.id,
                kind=DecisionKind.SIGNED,
                sha256=version.sha256,
            )
            self.session.add(decision)
            transition(
                self.session,
                version,
                Event.APPROVE if last else Event.SIGN_STAGE,
                actor,
                details={"stage": stage.name, "sha256": version.sha256},
            )
            if last:  # a ladder held for the approval (MAM_LADDER_AFTER_APPROVAL) starts now
                release_held(self.session, version)
        if not last:
            nxt = self.next_stage(version)
            if nxt is not None:
                self._notify_stage(version, nxt)
        return decision

    def request_changes(
        self,
        version_id: int,
        actor: User,
        reason: str | None,
        *,
        stage_id: int | None,
        expected_lock_version: int | None,
    ) -> ReviewDecision:
        """Send the version back to its producer with a reason."""
        with self._act():
            reason = clean_reason(reason)
            version, stage = self._reviewable(version_id, actor, stage_id, expected_lock_version)
            decision = ReviewDecision(
                version_id=version.id,
                stage_id=stage.id,
                reviewer_id=actor.id,
                kind=DecisionKind.CHANGES_REQUESTED,
                sha256=version.sha256,
                reason=reason,
            )
            transition(
                self.session,
                version,
                Event.REQUEST_CHANGES,
                actor,
                reason=reason,
                details={"stage": stage.name, "sha256": version.sha256},
            )
            self.session.add(decision)
        self._notify_producers(version, reason or "")
        return decision

    def waive_qc(self, version_id: int, actor: User, reason: str | None) -> QcWaiver:
        """Record that the version's QC failures do not block approval (reason required)."""
        with self._act():
            version, stage = self._reviewable(version_id, actor, None, None, decision=False)
            reason = clean_reason(reason)
            if not reason:
                raise NotAllowed(review.WAIVER_REASON, rule="reason")
            findings, waiver = self.qc_status(version)
            if not findings:
                raise InvalidInput(review.NOTHING_TO_WAIVE, rule="nothing_to_waive")
            if waiver is not None:
                raise Conflict(review.WAIVED, rule="waived")
            waiver = QcWaiver(
                version_id=version.id, reviewer_id=actor.id, reason=reason, findings=findings
            )
            self.session.add(waiver)
            self._audit(
                actor,
                AuditAction.QC_WAIVED,
                ObjectType.VERSION,
                version.id,
                stage=stage.name,
                findings=findings,
                reason=reason,
            )
        return waiver

    def supersede_older(self, version: Version) -> list[Version]:
        """Void the approvals of the episode's older versions and retire them (no commit)."""
        older = self.session.scalars(
            select(Version).where(
                Version.episode_id == version.episode_id,
                Version.number < version.number,
                Version.state.in_([s for (s, e) in TRANSITIONS if e is Event.SUPERSEDE]),
            )
        ).all()
        now = utcnow()
        for old in older:
            voided = []
            for decision in self.decisions(old):
                if decision.valid and decision.kind is DecisionKind.SIGNED:
                    decision.voided_at = now
                    decision.voided_by_version_id = version.id
                    voided.append(decision.id)
            transition(
                self.session,
                old,
                Event.SUPERSEDE,
                None,
                details={"by_version_id": version.id, "voided_decisions": voided},
            )
        return list(older)

    # --- helpers --------------------------------------------------------------------------

    def _reviewable(
        self,
        version_id: int,
        actor: User,
        stage_id: int | None,
        expected_lock_version: int | None,
        *,
        decision: bool = True,
    ) -> tuple[Version, ReviewStage]:
        """Check what every reviewer act needs; return the version and its current stage."""
        if not actor.has_role(Role.REVIEWER):
            raise NotAllowed(review.REVIEWERS_ONLY, rule="role")
        if decision and (stage_id is None or expected_lock_version is None):
            raise InvalidInput(
                N_(
                    "a review decision must name the stage (stage_id) and the version's "
                    "lock_version as shown on the page; reload the page and try again"
                ),
                rule="lock_required",
            )
        version = self.version(version_id)
        self._refuse_superseded(version)
        if expected_lock_version is not None and expected_lock_version != version.lock_version:
            raise Conflict(
                review.STALE,
                rule="stale",
                state=version.state.value,
            )
        stage = self.next_stage(version)
        if stage is None:
            raise NotAllowed(
                review.NOT_IN_REVIEW,
                params={"id": version.id},
                rule="state",
            )
        if stage_id is not None and stage_id != stage.id:
            raise Conflict(review.MOVED_STAGE, params={"stage": stage.name}, rule="stale")
        if stage.id not in {s.id for s in self.grants(actor)}:
            raise NotAllowed(
                review.STAGE_GRANT, params={"stage": stage.name}, rule="stage_grant"
            )
        return version, stage

    def _refuse_superseded(self, version: Version) -> None:
        newer = self.newer_version(version)
        if newer is not None or version.state is S.SUPERSEDED:
            number = newer.number if newer is not None else version.number + 1
            raise Conflict(
                review.SUPERSEDED,
                params={"number": version.number, "newer": number},
                rule="superseded",
                newer_version_id=newer.id if newer is not None else None,
            )

    @contextmanager
    def _act(self) -> Iterator[None]:
        """Run one act in a savepoint: a refusal or a lost race undoes only this act (the
        unit of work commits or rolls back the rest)."""
        try:
            with self.session.begin_nested():
                yield
        except (StaleDataError, IntegrityError) as exc:
            raise Conflict(
                review.RACE,
                rule="stale",
            ) from exc

    def _notify_stage(self, version: Version, stage: ReviewStage) -> None:
        reviewers = self.session.scalars(
            select(User)
            .join(ReviewerStage, ReviewerStage.user_id == User.id)
            .where(ReviewerStage.stage_id == stage.id, User.active)
        ).all()
        notice = Notice(
            recipients=[u for u in reviewers if u.id != version.uploaded_by_id],
            kind="review_requested",
            version_id=version.id,
            title=f"{version.episode.title} v{version.number}",
            detail=stage.name,
        )
        after_commit(self.session, partial(self.notifier.send, notice))  # mail only what stands

    def _notify_producers(self, version: Version, reason: str) -> None:
        programme = version.episode.programme
        people = {u.id: u for u in [programme.producer, version.uploaded_by] if u is not None}
        for editor in self.session.scalars(
            select(ProgrammeEditor).where(ProgrammeEditor.programme_id == programme.id)
        ):
            people[editor.user_id] = editor.user
        notice = Notice(
            recipients=list(people.values()),
            kind="changes_requested",
            version_id=version.id,
            title=f"{version.episode.title} v{version.number}",
            detail=reason,
        )
        after_commit(self.session, partial(self.notifier.send, notice))
