"""The review chain's rules, each enforced by the service whatever a client sends."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import Conflict, InvalidInput, NotAllowed
from mam.models import AuditEvent, Role, Version, VersionState
from mam.models.review import DecisionKind, ProgrammeEditor, ReviewDecision
from mam.services.review import ReviewService
from tests import factories
from tests.mam.review_helpers import World, make_world

S = VersionState


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


def audit_actions(session: Session, version: Version) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "version", AuditEvent.object_id == version.id)
            .order_by(AuditEvent.id)
        )
    )


def test_default_chain_is_first_then_final_review(world: World) -> None:
    assert [s.name for s in world.review.stages()] == ["初审", "终审"]


def test_producer_submits_a_ready_version_of_their_programme(world: World) -> None:
    v = world.version()
    world.review.submit(v.id, world.producer)
    assert v.state is S.IN_REVIEW
    assert world.review.next_stage(v).name == "初审"  # type: ignore[union-attr]
    assert audit_actions(world.session, v) == ["submit"]


def test_producer_of_another_programme_cannot_submit(world: World) -> None:
    v = world.version()
    stranger = factories.user(world.session, Role.PRODUCER)
    with pytest.raises(NotAllowed) as err:
        world.review.submit(v.id, stranger)
    assert err.value.details["rule"] == "programme"
    assert world.session.get_one(Version, v.id).state is S.READY


def test_a_programme_editor_may_submit(world: World) -> None:
    v = world.version()
    editor = factories.user(world.session, Role.PRODUCER)
    world.session.add(ProgrammeEditor(programme_id=world.programme.id, user_id=editor.id))
    world.session.commit()
    world.review.submit(v.id, editor)
    assert v.state is S.IN_REVIEW


@pytest.mark.parametrize("state", [S.PROCESSING, S.FAILED, S.CHANGES_REQUESTED, S.APPROVED])
def test_only_a_ready_version_can_be_submitted(world: World, state: VersionState) -> None:
    v = world.version(state)
    with pytest.raises(NotAllowed):
        world.review.submit(v.id, world.producer)
    assert v.state is state


def test_reviewers_do_not_submit(world: World) -> None:
    v = world.version()
    with pytest.raises(NotAllowed):
        world.review.submit(v.id, world.first)
    assert v.state is S.READY


def test_two_stages_signed_by_two_reviewers_approve_with_the_sha256(world: World) -> None:
    v = world.in_review()
    d1 = world.sign(v, world.first)
    assert v.state is S.IN_REVIEW and d1.stage.name == "初审"
    assert world.review.next_stage(v).name == "终审"  # type: ignore[union-attr]
    d2 = world.sign(v, world.final, sha256=v.sha256)
    assert v.state is S.APPROVED
    assert [d.sha256 for d in (d1, d2)] == [v.sha256, v.sha256]
    assert audit_actions(world.session, v) == ["submit", "sign_stage", "approve"]
    approve = world.session.scalar(select(AuditEvent).where(AuditEvent.action == "approve"))
    assert approve is not None and approve.details["sha256"] == v.sha256
    assert approve.actor_id == world.final.id


def test_nobody_approves_a_version_they_uploaded(world: World) -> None:
    v = world.in_review()
    # The first reviewer also produces, and this version is theirs.
    world.first.role_rows.append(type(world.first.role_rows[0])(role=Role.PRODUCER))
    v.uploaded_by_id = world.first.id
    world.session.commit()
    with pytest.raises(NotAllowed) as err:
        world.sign(v, world.first)
    assert err.value.details["rule"] == "own_upload"
    assert world.review.signatures(v) == [] and v.state is S.IN_REVIEW


def test_nobody_signs_two_stages_of_one_version(world: World) -> None:
    world.review.set_grants(world.first, ["初审", "终审"])
    v = world.in_review()
    world.sign(v, world.first)
    with pytest.raises(NotAllowed) as err:
        world.sign(v, world.first)
    assert err.value.details["rule"] == "two_stages"
    assert v.state is S.IN_REVIEW and len(world.review.signatures(v)) == 1


def test_a_reviewer_signs_only_the_stages_granted(world: World) -> None:
    v = world.in_review()
    with pytest.raises(NotAllowed) as err:
        world.sign(v, world.final)  # 终审 reviewer, but 初审 comes first
    assert err.value.details["rule"] == "stage_grant"
    assert world.review.signatures(v) == []


def test_a_page_for_another_stage_is_refused(world: World) -> None:
    v = world.in_review()
    final_stage = world.review.stages()[1]
    with pytest.raises(Conflict):
        world.sign(v, world.first, stage_id=final_stage.id)


def test_a_rejection_needs_a_reason(world: World) -> None:
    v = world.in_review()
    with pytest.raises(NotAllowed) as err:
        world.request_changes(v, world.first, "   ")
    assert err.value.details["rule"] == "reason"
    assert v.state is S.IN_REVIEW
    d = world.request_changes(v, world.first, "片头字幕有错别字")
    assert v.state is S.CHANGES_REQUESTED
    assert (d.kind, d.reason, d.sha256) == (
        DecisionKind.CHANGES_REQUESTED,
        "片头字幕有错别字",
        v.sha256,
    )
    audit = world.session.scalar(select(AuditEvent).where(AuditEvent.action == "request_changes"))
    assert audit is not None and audit.reason == "片头字幕有错别字"


def test_an_overlong_reason_is_refused(world: World) -> None:
    v = world.in_review()
    with pytest.raises(InvalidInput, match="too long"):
        world.request_changes(v, world.first, "x" * 2001)
    assert v.state is S.IN_REVIEW


def test_a_new_version_voids_approvals_of_older_ones(world: World) -> None:
    v1 = world.in_review()
    world.sign(v1, world.first)
    world.sign(v1, world.final)
    assert v1.state is S.APPROVED
    v2 = world.in_review()  # submitting v2 retires v1
    assert v1.state is S.SUPERSEDED
    assert world.review.signatures(v1) == []
    voided = world.session.scalars(select(ReviewDecision).where(ReviewDecision.version_id == v1.id))
    assert {d.voided_by_version_id for d in voided} == {v2.id}
    assert audit_actions(world.session, v1)[-1] == "supersede"


def test_supersede_on_upload_retires_an_approved_version(world: World) -> None:
    v1 = world.in_review()
    world.sign(v1, world.first)
    world.sign(v1, world.final)
    v2 = world.version(S.UPLOADED)
    world.review.supersede_older(v2)
    world.session.commit()
    assert v1.state is S.SUPERSEDED and world.review.signatures(v1) == []


def test_approving_a_superseded_version_is_a_conflict(world: World) -> None:
    v1 = world.in_review()
    world.version(S.UPLOADED)  # a newer cut arrives while v1 is in review
    with pytest.raises(Conflict) as err:
        world.sign(v1, world.first)
    assert err.value.details["rule"] == "superseded"
    assert err.value.http_status == 409
    assert world.review.signatures(v1) == [] and v1.state is S.IN_REVIEW


def test_an_approval_is_tied_to_the_file_reviewed(world: World) -> None:
    v = world.in_review()
    with pytest.raises(Conflict, match="not this version's file"):
        world.sign(v, world.first, sha256="0" * 64)
    assert world.review.signatures(v) == []


def test_qc_failures_block_approval_until_waived_with_a_reason(session: Session) -> None:
    world = make_world(session)
    review = ReviewService(session, qc=lambda _s, _v: ["loudness -12 LUFS, target -23"])
    v = world.in_review()
    with pytest.raises(NotAllowed) as err:
        world.sign(v, world.first, review=review)
    assert err.value.details["rule"] == "qc" and "loudness" in err.value.message
    with pytest.raises(NotAllowed):
        review.waive_qc(v.id, world.first, "  ")
    waiver = review.waive_qc(v.id, world.first, "原始素材如此，已与编导确认")
    assert waiver.findings == ["loudness -12 LUFS, target -23"]
    audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "qc_waived"))
    assert audit is not None and audit.reason == "原始素材如此，已与编导确认"
    assert audit.actor_id == world.first.id
    world.sign(v, world.first, review=review)
    world.sign(v, world.final, review=review)
    assert v.state is S.APPROVED


def test_a_stale_page_gets_a_conflict(world: World) -> None:
    v = world.in_review()
    shown = v.lock_version
    world.sign(v, world.first, expected_lock_version=shown)
    with pytest.raises(Conflict, match="reload"):
        world.request_changes(v, world.final, "no", expected_lock_version=shown)
    assert v.state is S.IN_REVIEW


def test_the_chain_is_configurable(world: World) -> None:
    world.review.set_chain(["初审", "复审", "终审"])
    third = factories.user(world.session, Role.REVIEWER)
    world.review.set_grants(third, ["复审"])
    v = world.in_review()
    world.sign(v, world.first)
    world.sign(v, third)
    assert v.state is S.IN_REVIEW
    world.sign(v, world.final)
    assert v.state is S.APPROVED
    world.review.set_chain(["终审"])
    v2 = world.in_review()
    world.sign(v2, world.final)
    assert v2.state is S.APPROVED


def test_stage_grants_are_audited_and_need_the_reviewer_role(world: World) -> None:
    with pytest.raises(InvalidInput):
        world.review.set_grants(world.producer, ["初审"])
    world.review.set_grants(world.first, ["初审", "终审"], actor=world.final)
    audit = world.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "stages_changed").order_by(AuditEvent.id)
    ).all()[-1]
    assert audit.details == {"before": ["初审"], "after": ["初审", "终审"]}
    assert audit.actor_id == world.final.id
    assert [s.name for s in world.review.grants(world.first)] == ["初审", "终审"]


def test_buttons_follow_the_rules(world: World) -> None:
    v = world.version()
    assert world.review.can(v, world.producer)["submit"]
    assert not world.review.can(v, world.first)["submit"]
    world.review.submit(v.id, world.producer)
    assert world.review.can(v, world.first)["sign"]
    assert not world.review.can(v, world.final)["sign"]
    assert not world.review.can(v, world.producer)["sign"]


def test_error_findings_of_the_processing_qc_report_block_approval(world: World) -> None:
    processing = pytest.importorskip("mam.models.processing")
    v = world.in_review()
    world.session.add(
        processing.QCReport(
            version_id=v.id,
            verdict=processing.QCVerdict.FAIL,
            errors=1,
            warnings=1,
            report={
                "findings": [
                    {"check": "decode", "severity": "error", "message": "decode errors at 3 s"},
                    {"check": "loudness", "severity": "warning", "message": "quiet"},
                ]
            },
        )
    )
    world.session.commit()
    world.session.expire(v)
    with pytest.raises(NotAllowed, match="decode errors at 3 s") as err:
        world.sign(v, world.first)
    assert "quiet" not in err.value.message  # warnings do not block
