"""The enumerated audit actions: every one named, old rows still read, one helper writes."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.audit import ACTIONS, OBJECT_LABELS, AuditAction, ObjectType, action_name, record
from mam.audit_names import describe
from mam.models import AuditEvent
from tests import factories

# Every action string the code wrote before the actions were enumerated (rows in the field).
OLD_ACTIONS = [
    "ingest", "start_processing", "processing_succeeded", "processing_failed",
    "retry_processing", "submit", "sign_stage", "approve", "request_changes", "release",
    "withdraw", "supersede", "qc_waived", "release_created", "release_item_added",
    "release_item_removed", "release_targets_set", "release_published", "release_withdrawn",
    "package_rebuild", "download_refused", "receipt_confirmed", "county_profile_changed",
    "programme_created", "programme_saved", "edit_metadata", "attach_subtitle", "user_created",
    "user_changed", "roles_changed", "stages_changed", "review_chain_changed",
    "password_changed", "password_reset", "login", "login_failed", "logout", "sessions_ended",
    "issue_api_token", "revoke_api_token", "fixity_failed",
]  # fmt: skip


def test_every_action_has_a_name_and_a_sentence() -> None:
    assert set(ACTIONS) == set(AuditAction)
    for name, sentence in ACTIONS.values():
        assert name and "_" not in name
        assert "%(object)s" in sentence or "%(actor)s" in sentence
    assert set(OBJECT_LABELS) == set(ObjectType)


@pytest.mark.parametrize("old", OLD_ACTIONS)
def test_old_action_strings_are_still_actions(old: str) -> None:
    assert AuditAction(old).value == old
    assert action_name(old) != old


def test_an_unknown_action_is_shown_as_stored(session: Session) -> None:
    row = AuditEvent(action="something_else", object_type="thing", object_id=3, details={})
    session.add(row)
    session.flush()
    (words,) = describe(session, [row])
    assert words.sentence.render(str) == "the system: something_else thing 3 (deleted)"
    assert action_name("something_else") == "something_else"


def test_record_refuses_what_is_not_enumerated(session: Session) -> None:
    actor = factories.user(session)
    with pytest.raises(ValueError, match="not a valid AuditAction"):
        record(session, "made_up", actor, ObjectType.USER, actor.id)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a valid ObjectType"):
        record(session, AuditAction.LOGIN, actor, "spaceship", actor.id)  # type: ignore[arg-type]
    record(session, AuditAction.LOGIN, actor, ObjectType.USER, actor.id, details={"ip": "x"})
    session.flush()
    row = session.scalars(select(AuditEvent)).one()
    assert (row.action, row.object_type, row.object_id, row.actor_id) == (
        "login", "user", actor.id, actor.id
    )  # fmt: skip
