"""Every act the audit log records: one enumeration of actions and the one helper that
writes an AuditEvent row. Nothing else builds AuditEvent rows.

An action's value is what is stored in ``audit_event.action``; values written before this
enumeration existed are kept as they were, so old rows keep their meaning. Each action has
an English name and sentence marked for translation; the audit page fills the sentence with
the actor and the object described in the reader's language.
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
    # the playback network (mam.services.network, plans, focus, screening_reports, circulation)
    TOWNSHIP = "township"
    ORGANISATION = "organisation"
    PLAYBACK_POINT = "playback_point"
    FOCUS = "focus"
    PLAN = "plan"
    SCREENING = "screening"
    FILM_COPY = "film_copy"


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
    COMMENT_ADDED = "comment_added"
    COMMENT_RESOLVED = "comment_resolved"
    COMMENT_REOPENED = "comment_reopened"
    # processing jobs (mam.machines.JOB)
    JOB_STARTED = "job_started"
    JOB_SUCCEEDED = "job_succeeded"
    JOB_SKIPPED = "job_skipped"
    JOB_REQUEUED = "job_requeued"
    JOB_FAILED = "job_failed"
    JOB_RETRIED = "job_retried"
    JOB_HELD = "job_held"
    JOB_RELEASED = "job_released"
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
    PACKAGE_REQUEUED = "package_requeued"
    # county centres
    DOWNLOAD_REFUSED = "download_refused"
    RECEIPT_CONFIRMED = "receipt_confirmed"
    SCREENING_REPORTED = "screening_reported"
    COUNTY_PROFILE_CHANGED = "county_profile_changed"
    COUNTY_SAVED = "county_saved"
    LOGO_SET = "logo_set"  # station branding (mam.services.branding)
    LOGO_CLEARED = "logo_cleared"
    # catalogue
    PROGRAMME_CREATED = "programme_created"
    PROGRAMME_SAVED = "programme_saved"
    EDIT_METADATA = "edit_metadata"
    TITLE_CHANGED = "title_changed"
    ATTACH_SUBTITLE = "attach_subtitle"
    EDIT_SUBTITLE = "edit_subtitle"
    SUBTITLES_REBURN = "subtitles_reburn"
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
    # licences (mam.services.licences)
    LICENCE_SAVED = "licence_saved"
    LICENCE_REMOVED = "licence_removed"
    LICENCE_NOTICE_SENT = "licence_notice_sent"
    RELEASE_USES_SET = "release_uses_set"
    # the playback network and online learning
    TOWNSHIP_CREATED = "township_created"
    TOWNSHIP_UPDATED = "township_updated"
    TOWNSHIP_ACTIVATED = "township_activated"
    TOWNSHIP_DEACTIVATED = "township_deactivated"
    TOWNSHIP_DELETED = "township_deleted"
    ORGANISATION_CREATED = "organisation_created"
    ORGANISATION_ACTIVATED = "organisation_activated"
    ORGANISATION_DEACTIVATED = "organisation_deactivated"
    POINT_CREATED = "point_created"
    POINT_UPDATED = "point_updated"
    POINT_ACTIVATED = "point_activated"
    POINT_DEACTIVATED = "point_deactivated"
    POINT_DELETED = "point_deleted"
    NETWORK_IMPORTED = "network_imported"
    FOCUS_CREATED = "focus_created"
    FOCUS_UPDATED = "focus_updated"
    FOCUS_DELETED = "focus_deleted"
    PLAN_CREATED = "plan_created"
    PLAN_UPDATED = "plan_updated"
    PLAN_ENTRY_ADDED = "plan_entry_added"
    PLAN_ENTRY_REMOVED = "plan_entry_removed"
    PLAN_COPIED = "plan_copied"
    SCREENING_CORRECTED = "screening_corrected"
    COPY_REGISTERED = "copy_registered"
    COPY_HANDED_ON = "copy_handed_on"
    COPY_RETIRED = "copy_retired"
    LEARNER_CREATED = "learner_created"
    LEARNERS_IMPORTED = "learners_imported"
    LEARNER_UPDATED = "learner_updated"
    LEARNER_DEACTIVATED = "learner_deactivated"
    LEARNER_REACTIVATED = "learner_reactivated"
    STUDY_COMPLETED = "study_completed"
    STUDY_EXPORTED = "study_exported"


A = AuditAction
# Each action's name (filter menus, an episode's history) and the sentence the audit page
# shows, with the actor and the object described in the reader's language.
ACTIONS: dict[AuditAction, tuple[str, str]] = {
    A.INGEST: (N_("Uploaded"), N_("%(actor)s uploaded %(object)s")),
    A.START_PROCESSING: (N_("Processing started"), N_("%(actor)s started processing %(object)s")),
    A.PROCESSING_SUCCEEDED: (
        N_("Processing finished"),
        N_("%(actor)s finished processing %(object)s"),
    ),
    A.PROCESSING_FAILED: (N_("Processing failed"), N_("%(actor)s failed to process %(object)s")),
    A.RETRY_PROCESSING: (N_("Processing retried"), N_("%(actor)s had %(object)s processed again")),
    A.SUBMIT: (N_("Submitted for review"), N_("%(actor)s submitted %(object)s for review")),
    A.SIGN_STAGE: (N_("Stage signed"), N_("%(actor)s signed a review stage of %(object)s")),
    A.APPROVE: (N_("Approved"), N_("%(actor)s approved %(object)s")),
    A.REQUEST_CHANGES: (N_("Changes requested"), N_("%(actor)s requested changes to %(object)s")),
    A.RELEASE: (N_("Released"), N_("%(actor)s released %(object)s")),
    A.WITHDRAW: (N_("Withdrawn"), N_("%(actor)s withdrew %(object)s")),
    A.SUPERSEDE: (
        N_("Superseded by a newer version"),
        N_("%(actor)s marked %(object)s superseded"),
    ),
    A.QC_WAIVED: (N_("QC findings waived"), N_("%(actor)s waived the QC findings of %(object)s")),
    A.COMMENT_ADDED: (N_("Comment added"), N_("%(actor)s commented on %(object)s")),
    A.COMMENT_RESOLVED: (
        N_("Comment thread resolved"),
        N_("%(actor)s resolved a comment thread on %(object)s"),
    ),
    A.COMMENT_REOPENED: (
        N_("Comment thread reopened"),
        N_("%(actor)s reopened a comment thread on %(object)s"),
    ),
    A.JOB_STARTED: (N_("Job started"), N_("%(actor)s started %(object)s")),
    A.JOB_SUCCEEDED: (N_("Job succeeded"), N_("%(actor)s completed %(object)s")),
    A.JOB_SKIPPED: (N_("Job skipped"), N_("%(actor)s skipped %(object)s")),
    A.JOB_REQUEUED: (N_("Job queued again"), N_("%(actor)s queued %(object)s again")),
    A.JOB_FAILED: (N_("Job failed"), N_("%(actor)s gave up %(object)s")),
    A.JOB_RETRIED: (N_("Job retried"), N_("%(actor)s retried %(object)s")),
    A.JOB_HELD: (N_("Job held until approval"), N_("%(actor)s held %(object)s until approval")),
    A.JOB_RELEASED: (
        N_("Job released after approval"),
        N_("%(actor)s released %(object)s to the workers"),
    ),
    A.UPLOAD_COMPLETED: (N_("Upload completed"), N_("%(actor)s completed %(object)s")),
    A.UPLOAD_REFUSED: (N_("Upload refused"), N_("%(object)s by %(actor)s was refused")),
    A.UPLOAD_CANCELLED: (N_("Upload cancelled"), N_("%(actor)s cancelled %(object)s")),
    A.UPLOAD_EXPIRED: (N_("Upload expired"), N_("%(object)s expired")),
    A.RELEASE_CREATED: (N_("Release set created"), N_("%(actor)s created %(object)s")),
    A.RELEASE_ITEM_ADDED: (
        N_("Episode added to a release set"),
        N_("%(actor)s added an episode to %(object)s"),
    ),
    A.RELEASE_ITEM_REMOVED: (
        N_("Episode removed from a release set"),
        N_("%(actor)s removed an episode from %(object)s"),
    ),
    A.RELEASE_TARGETS_SET: (
        N_("Target counties chosen"),
        N_("%(actor)s chose the target counties of %(object)s"),
    ),
    A.RELEASE_PUBLISHED: (N_("Release set published"), N_("%(actor)s published %(object)s")),
    A.RELEASE_WITHDRAWN: (N_("Release set withdrawn"), N_("%(actor)s withdrew %(object)s")),
    A.RELEASE_USES_SET: (
        N_("Release set uses chosen"),
        N_("%(actor)s chose the uses of %(object)s"),
    ),
    A.LICENCE_SAVED: (N_("Licence saved"), N_("%(actor)s saved the licence of %(object)s")),
    A.LICENCE_REMOVED: (
        N_("Licence removed"),
        N_("%(actor)s removed the licence of %(object)s"),
    ),
    A.LICENCE_NOTICE_SENT: (
        N_("Licence expiry notice sent"),
        N_("%(actor)s sent an expiry notice for the licence of %(object)s"),
    ),
    A.PACKAGE_BUILD_STARTED: (
        N_("Package build started"),
        N_("%(actor)s started building %(object)s"),
    ),
    A.PACKAGE_BUILT: (N_("Package built"), N_("%(actor)s built %(object)s")),
    A.PACKAGE_BUILD_FAILED: (
        N_("Package build failed"),
        N_("%(actor)s failed to build %(object)s"),
    ),
    A.PACKAGE_REBUILD: (N_("Package rebuild queued"), N_("%(actor)s had %(object)s built again")),
    A.PACKAGE_REQUEUED: (
        N_("Package build queued again"),
        N_("%(actor)s queued the build of %(object)s again"),
    ),
    A.DOWNLOAD_REFUSED: (
        N_("Download refused"),
        N_("%(actor)s was refused a download of %(object)s"),
    ),
    A.RECEIPT_CONFIRMED: (N_("Receipt confirmed"), N_("%(actor)s confirmed receipt of %(object)s")),
    A.SCREENING_REPORTED: (
        N_("Screening reported"),
        N_("%(actor)s reported a screening of %(object)s"),
    ),
    A.COUNTY_PROFILE_CHANGED: (
        N_("County profile changed"),
        N_("%(actor)s changed the profile of %(object)s"),
    ),
    A.COUNTY_SAVED: (N_("County added"), N_("%(actor)s added %(object)s")),
    A.LOGO_SET: (N_("Station logo set"), N_("%(actor)s set the station logo of %(object)s")),
    A.LOGO_CLEARED: (
        N_("Station logo removed"),
        N_("%(actor)s removed the station logo of %(object)s"),
    ),
    A.PROGRAMME_CREATED: (N_("Programme created"), N_("%(actor)s created %(object)s")),
    A.PROGRAMME_SAVED: (N_("Programme saved"), N_("%(actor)s saved %(object)s")),
    A.EDIT_METADATA: (N_("Metadata edited"), N_("%(actor)s edited the metadata of %(object)s")),
    A.TITLE_CHANGED: (N_("Title changed"), N_("%(actor)s renamed %(object)s")),
    A.ATTACH_SUBTITLE: (N_("Subtitles attached"), N_("%(actor)s attached subtitles to %(object)s")),
    A.EDIT_SUBTITLE: (N_("Subtitles edited"), N_("%(actor)s edited the subtitles of %(object)s")),
    A.SUBTITLES_REBURN: (
        N_("Burned-in subtitles made again"),
        N_("%(actor)s saved subtitles %(object)s burns in: its renditions are made again"),
    ),
    A.TOPIC_CREATED: (N_("Topic added"), N_("%(actor)s added %(object)s")),
    A.TOPIC_RENAMED: (N_("Topic renamed"), N_("%(actor)s renamed %(object)s")),
    A.TOPIC_RETIRED: (N_("Topic retired"), N_("%(actor)s retired %(object)s")),
    A.TOPIC_RESTORED: (N_("Topic restored"), N_("%(actor)s restored %(object)s")),
    A.USER_CREATED: (N_("Account created"), N_("%(actor)s created the account of %(object)s")),
    A.USER_CHANGED: (N_("Account changed"), N_("%(actor)s changed the account of %(object)s")),
    A.ROLES_CHANGED: (N_("Roles changed"), N_("%(actor)s changed the roles of %(object)s")),
    A.STAGES_CHANGED: (
        N_("Review stages changed"),
        N_("%(actor)s changed the review stages of %(object)s"),
    ),
    A.REVIEW_CHAIN_CHANGED: (N_("Review chain changed"), N_("%(actor)s changed %(object)s")),
    A.PASSWORD_CHANGED: (N_("Password changed"), N_("%(actor)s changed their password")),
    A.PASSWORD_RESET: (N_("Password reset"), N_("%(actor)s reset the password of %(object)s")),
    A.LOGIN: (N_("Signed in"), N_("%(actor)s signed in")),
    A.LOGIN_FAILED: (N_("Sign-in failed"), N_("Someone failed to sign in %(object)s")),
    A.LOGOUT: (N_("Signed out"), N_("%(actor)s signed out")),
    A.SESSIONS_ENDED: (
        N_("Signed out everywhere"),
        N_("%(actor)s ended the sign-in sessions of %(object)s"),
    ),
    A.ISSUE_API_TOKEN: (N_("API token issued"), N_("%(actor)s issued %(object)s")),
    A.REVOKE_API_TOKEN: (N_("API token revoked"), N_("%(actor)s revoked %(object)s")),
    A.FIXITY_FAILED: (N_("Fixity check failed"), N_("%(actor)s found damage in %(object)s")),
    A.TOWNSHIP_CREATED: (N_("Township added"), N_("%(actor)s added %(object)s")),
    A.TOWNSHIP_UPDATED: (N_("Township changed"), N_("%(actor)s changed %(object)s")),
    A.TOWNSHIP_ACTIVATED: (N_("Township reactivated"), N_("%(actor)s reactivated %(object)s")),
    A.TOWNSHIP_DEACTIVATED: (N_("Township deactivated"), N_("%(actor)s deactivated %(object)s")),
    A.TOWNSHIP_DELETED: (N_("Township deleted"), N_("%(actor)s deleted %(object)s")),
    A.ORGANISATION_CREATED: (N_("Organisation added"), N_("%(actor)s added %(object)s")),
    A.ORGANISATION_ACTIVATED: (
        N_("Organisation reactivated"),
        N_("%(actor)s reactivated %(object)s"),
    ),
    A.ORGANISATION_DEACTIVATED: (
        N_("Organisation deactivated"),
        N_("%(actor)s deactivated %(object)s"),
    ),
    A.POINT_CREATED: (N_("Playback point added"), N_("%(actor)s added %(object)s")),
    A.POINT_UPDATED: (N_("Playback point changed"), N_("%(actor)s changed %(object)s")),
    A.POINT_ACTIVATED: (N_("Playback point reactivated"), N_("%(actor)s reactivated %(object)s")),
    A.POINT_DEACTIVATED: (N_("Playback point deactivated"), N_("%(actor)s deactivated %(object)s")),
    A.POINT_DELETED: (N_("Playback point deleted"), N_("%(actor)s deleted %(object)s")),
    A.NETWORK_IMPORTED: (
        N_("Network imported"),
        N_("%(actor)s imported the playback network of %(object)s"),
    ),
    A.FOCUS_CREATED: (N_("Focus set"), N_("%(actor)s set %(object)s")),
    A.FOCUS_UPDATED: (N_("Focus changed"), N_("%(actor)s changed %(object)s")),
    A.FOCUS_DELETED: (N_("Focus deleted"), N_("%(actor)s deleted %(object)s")),
    A.PLAN_CREATED: (N_("Plan started"), N_("%(actor)s drew up %(object)s")),
    A.PLAN_UPDATED: (N_("Plan notes changed"), N_("%(actor)s changed the notes of %(object)s")),
    A.PLAN_ENTRY_ADDED: (
        N_("Screening planned"),
        N_("%(actor)s planned a screening in %(object)s"),
    ),
    A.PLAN_ENTRY_REMOVED: (
        N_("Planned screening removed"),
        N_("%(actor)s removed a screening from %(object)s"),
    ),
    A.PLAN_COPIED: (
        N_("Plan copied"),
        N_("%(actor)s copied last month's screenings into %(object)s"),
    ),
    A.SCREENING_CORRECTED: (
        N_("Screening report corrected"),
        N_("%(actor)s corrected the report of %(object)s"),
    ),
    A.COPY_REGISTERED: (N_("Copy registered"), N_("%(actor)s registered %(object)s")),
    A.COPY_HANDED_ON: (N_("Copy handed on"), N_("%(actor)s handed on %(object)s")),
    A.COPY_RETIRED: (N_("Copy retired"), N_("%(actor)s took %(object)s out of circulation")),
    A.LEARNER_CREATED: (
        N_("Learner account created"),
        N_("%(actor)s created the learner account of %(object)s"),
    ),
    A.LEARNERS_IMPORTED: (
        N_("Learners imported"),
        N_("%(actor)s imported learner accounts for %(object)s"),
    ),
    A.LEARNER_UPDATED: (
        N_("Learner changed"),
        N_("%(actor)s changed the learner account of %(object)s"),
    ),
    A.LEARNER_DEACTIVATED: (
        N_("Learner deactivated"),
        N_("%(actor)s deactivated the learner account of %(object)s"),
    ),
    A.LEARNER_REACTIVATED: (
        N_("Learner reactivated"),
        N_("%(actor)s reactivated the learner account of %(object)s"),
    ),
    A.STUDY_COMPLETED: (N_("Study completed"), N_("%(actor)s finished studying %(object)s")),
    A.STUDY_EXPORTED: (
        N_("Study records exported"),
        N_("%(actor)s exported the study records of %(object)s"),
    ),
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
    ObjectType.TOWNSHIP: N_("township station"),
    ObjectType.ORGANISATION: N_("organisation"),
    ObjectType.PLAYBACK_POINT: N_("playback point"),
    ObjectType.FOCUS: N_("playback focus"),
    ObjectType.PLAN: N_("playback plan"),
    ObjectType.SCREENING: N_("screening"),
    ObjectType.FILM_COPY: N_("film copy"),
}


# The name of every state of every machine, by its stored value (audit rows keep values).
STATE_LABELS: dict[str, str] = {
    "uploaded": N_("Uploaded"),
    "processing": N_("Processing"),
    "ready": N_("Ready"),
    "failed": N_("Failed"),
    "in_review": N_("In review"),
    "changes_requested": N_("Changes requested"),
    "approved": N_("Approved"),
    "released": N_("Released"),
    "withdrawn": N_("Withdrawn"),
    "superseded": N_("Superseded"),
    "queued": N_("Queued"),
    "running": N_("Running"),
    "succeeded": N_("Succeeded"),
    "skipped": N_("Skipped"),
    "open": N_("Receiving"),
    "done": N_("Done"),
    "expired": N_("Expired"),
    "cancelled": N_("Cancelled"),
    "draft": N_("Draft"),
    "published": N_("Published"),
    "building": N_("Building"),
    "waiting": N_("Waiting for approval"),
}


# Where one kind of object calls a state otherwise (a package that is ready is ready to
# download; a version that is ready waits to be submitted).
STATE_LABELS_BY_OBJECT: dict[tuple[str, str], str] = {
    (ObjectType.PACKAGE, "ready"): N_("Ready to download"),
}


def state_label(object_type: str, state: str) -> str:
    """Return the English name of ``state`` of an object of ``object_type`` (the value if
    it is unknown)."""
    return STATE_LABELS_BY_OBJECT.get((object_type, state)) or STATE_LABELS.get(state, state)


def action_name(action: str) -> str:
    """Return the English name of a stored action (the stored text if it is unknown)."""
    try:
        return ACTIONS[AuditAction(action)][0]
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
