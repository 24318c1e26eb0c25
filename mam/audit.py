"""Every act the audit log records: one enumeration of actions and the one helper that
writes an AuditEvent row. Nothing else builds AuditEvent rows.

An action's value is what is stored in ``audit_event.action``; values written before this
enumeration existed are kept as they were, so old rows keep their meaning. Each action has
an English label marked for translation (the audit page shows it as a verb phrase:
"<actor> <label> <object>").
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy.orm import Session

from mam.i18n import N_
from mam.models import AuditEvent, User


class ObjectType(enum.StrEnum):
    """What an audit row is about (``audit_event.object_type``)."""

    VERSION = "version"
    JOB = "job"
    UPLOAD = "upload"
    RELEASE_SET = "release_set"
    PACKAGE = "package"
    EPISODE = "episode"
    PROGRAMME = "programme"
    TOPIC = "topic"
    USER = "user"
    COUNTY = "county"
    API_TOKEN = "api_token"  # noqa: S105 (an object type)
    REVIEW_STAGE = "review_stage"
    ORIGINAL = "original"  # a source file checked by the fixity audit


class AuditAction(enum.StrEnum):
    """Every act that is recorded. Values are stored; never rename one."""

    # version workflow (mam.workflow)
    INGEST = "ingest"
    START_PROCESSING = "start_processing"
    PROCESSING_SUCCEEDED = "processing_succeeded"
    PROCESSING_FAILED = "processing_failed"
    RETRY_PROCESSING = "retry_processing"
    SUBMIT = "submit"
    SIGN_STAGE = "sign_stage"
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    RELEASE = "release"
    WITHDRAW = "withdraw"
    SUPERSEDE = "supersede"
    QC_WAIVED = "qc_waived"
    # processing jobs (mam.machines.JOB)
    JOB_STARTED = "job_started"
    JOB_SUCCEEDED = "job_succeeded"
    JOB_SKIPPED = "job_skipped"
    JOB_REQUEUED = "job_requeued"
    JOB_FAILED = "job_failed"
    JOB_RETRIED = "job_retried"
    # uploads (mam.machines.UPLOAD)
    UPLOAD_COMPLETED = "upload_completed"
    UPLOAD_REFUSED = "upload_refused"
    UPLOAD_CANCELLED = "upload_cancelled"
    UPLOAD_EXPIRED = "upload_expired"
    # release sets and packages (mam.machines.RELEASE, mam.machines.PACKAGE)
    RELEASE_CREATED = "release_created"
    RELEASE_ITEM_ADDED = "release_item_added"
    RELEASE_ITEM_REMOVED = "release_item_removed"
    RELEASE_TARGETS_SET = "release_targets_set"
    RELEASE_PUBLISHED = "release_published"
    RELEASE_WITHDRAWN = "release_withdrawn"
    PACKAGE_BUILD_STARTED = "package_build_started"
    PACKAGE_BUILT = "package_built"
    PACKAGE_BUILD_FAILED = "package_build_failed"
    PACKAGE_REBUILD = "package_rebuild"
    # county centres
    DOWNLOAD_REFUSED = "download_refused"
    RECEIPT_CONFIRMED = "receipt_confirmed"
    SCREENING_REPORTED = "screening_reported"
    COUNTY_PROFILE_CHANGED = "county_profile_changed"
    COUNTY_SAVED = "county_saved"
    # catalogue
    PROGRAMME_CREATED = "programme_created"
    PROGRAMME_SAVED = "programme_saved"
    EDIT_METADATA = "edit_metadata"
    TITLE_CHANGED = "title_changed"
    ATTACH_SUBTITLE = "attach_subtitle"
    TOPIC_CREATED = "topic_created"
    TOPIC_RENAMED = "topic_renamed"
    TOPIC_RETIRED = "topic_retired"
    TOPIC_RESTORED = "topic_restored"
    # people and access
    USER_CREATED = "user_created"
    USER_CHANGED = "user_changed"
    ROLES_CHANGED = "roles_changed"
    STAGES_CHANGED = "stages_changed"
    REVIEW_CHAIN_CHANGED = "review_chain_changed"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (an action name)
    PASSWORD_RESET = "password_reset"  # noqa: S105 (an action name)
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    SESSIONS_ENDED = "sessions_ended"
    ISSUE_API_TOKEN = "issue_api_token"  # noqa: S105 (an action name)
    REVOKE_API_TOKEN = "revoke_api_token"  # noqa: S105 (an action name)
    # storage
    FIXITY_FAILED = "fixity_failed"


A = AuditAction
# The verb phrase of each action, as the audit page reads: "<actor> <label> <object>".
ACTION_LABELS: dict[AuditAction, str] = {
    A.INGEST: N_("uploaded"),
    A.START_PROCESSING: N_("started processing"),
    A.PROCESSING_SUCCEEDED: N_("finished processing"),
    A.PROCESSING_FAILED: N_("failed to process"),
    A.RETRY_PROCESSING: N_("retried processing of"),
    A.SUBMIT: N_("submitted for review"),
    A.SIGN_STAGE: N_("signed a review stage of"),
    A.APPROVE: N_("approved"),
    A.REQUEST_CHANGES: N_("requested changes to"),
    A.RELEASE: N_("released"),
    A.WITHDRAW: N_("withdrew"),
    A.SUPERSEDE: N_("superseded"),
    A.QC_WAIVED: N_("waived the QC findings of"),
    A.JOB_STARTED: N_("started"),
    A.JOB_SUCCEEDED: N_("completed"),
    A.JOB_SKIPPED: N_("skipped"),
    A.JOB_REQUEUED: N_("queued again"),
    A.JOB_FAILED: N_("gave up"),
    A.JOB_RETRIED: N_("retried"),
    A.UPLOAD_COMPLETED: N_("completed"),
    A.UPLOAD_REFUSED: N_("refused"),
    A.UPLOAD_CANCELLED: N_("cancelled"),
    A.UPLOAD_EXPIRED: N_("expired"),
    A.RELEASE_CREATED: N_("created"),
    A.RELEASE_ITEM_ADDED: N_("added an episode to"),
    A.RELEASE_ITEM_REMOVED: N_("removed an episode from"),
    A.RELEASE_TARGETS_SET: N_("chose the target counties of"),
    A.RELEASE_PUBLISHED: N_("published"),
    A.RELEASE_WITHDRAWN: N_("withdrew"),
    A.PACKAGE_BUILD_STARTED: N_("started building"),
    A.PACKAGE_BUILT: N_("built"),
    A.PACKAGE_BUILD_FAILED: N_("failed to build"),
    A.PACKAGE_REBUILD: N_("queued a rebuild of"),
    A.DOWNLOAD_REFUSED: N_("was refused a download of"),
    A.RECEIPT_CONFIRMED: N_("confirmed receipt of"),
    A.SCREENING_REPORTED: N_("reported a screening of"),
    A.COUNTY_PROFILE_CHANGED: N_("changed the profile of"),
    A.COUNTY_SAVED: N_("saved"),
    A.PROGRAMME_CREATED: N_("created"),
    A.PROGRAMME_SAVED: N_("saved"),
    A.EDIT_METADATA: N_("edited the metadata of"),
    A.TITLE_CHANGED: N_("renamed"),
    A.ATTACH_SUBTITLE: N_("attached subtitles to"),
    A.TOPIC_CREATED: N_("created"),
    A.TOPIC_RENAMED: N_("renamed"),
    A.TOPIC_RETIRED: N_("retired"),
    A.TOPIC_RESTORED: N_("restored"),
    A.USER_CREATED: N_("created"),
    A.USER_CHANGED: N_("changed"),
    A.ROLES_CHANGED: N_("changed the roles of"),
    A.STAGES_CHANGED: N_("changed the review stages of"),
    A.REVIEW_CHAIN_CHANGED: N_("changed the review chain"),
    A.PASSWORD_CHANGED: N_("changed the password of"),
    A.PASSWORD_RESET: N_("reset the password of"),
    A.LOGIN: N_("signed in"),
    A.LOGIN_FAILED: N_("failed to sign in"),
    A.LOGOUT: N_("signed out"),
    A.SESSIONS_ENDED: N_("ended every session of"),
    A.ISSUE_API_TOKEN: N_("issued"),
    A.REVOKE_API_TOKEN: N_("revoked"),
    A.FIXITY_FAILED: N_("found damage in"),
}

# The name of each kind of object, for filters and for objects that no longer exist.
OBJECT_LABELS: dict[ObjectType, str] = {
    ObjectType.VERSION: N_("version"),
    ObjectType.JOB: N_("processing job"),
    ObjectType.UPLOAD: N_("upload"),
    ObjectType.RELEASE_SET: N_("release set"),
    ObjectType.PACKAGE: N_("package"),
    ObjectType.EPISODE: N_("episode"),
    ObjectType.PROGRAMME: N_("programme"),
    ObjectType.TOPIC: N_("topic"),
    ObjectType.USER: N_("user"),
    ObjectType.COUNTY: N_("county"),
    ObjectType.API_TOKEN: N_("API token"),
    ObjectType.REVIEW_STAGE: N_("review stage"),
    ObjectType.ORIGINAL: N_("source file"),
}


def action_label(action: str) -> str:
    """Return the English label of a stored action (the stored text if it is unknown)."""
    try:
        return ACTION_LABELS[AuditAction(action)]
    except ValueError:
        return action


def record(
    session: Session,
    action: AuditAction,
    actor: User | None,
    object_type: ObjectType,
    object_id: int | str | None,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit row for ``action`` by ``actor`` (None: the system) on an object.

    The row joins the caller's transaction: it is committed with the change it records.
    An object with a text id (an upload) keeps it in ``details["key"]``.
    """
    extra = dict(details or {})
    if isinstance(object_id, str):
        extra["key"] = object_id
        object_id = None
    row = AuditEvent(
        actor_id=None if actor is None else actor.id,
        action=AuditAction(action).value,
        object_type=ObjectType(object_type).value,
        object_id=object_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        details=extra,
    )
    session.add(row)
    return row
