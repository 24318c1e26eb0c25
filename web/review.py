"""The review page: player, comments, the stage chain and the acts each user may take."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from mam import inputs
from mam.audit import action_name
from mam.errors import MamError
from mam.models import Role, User, Version, VersionState
from mam.models.review import Comment
from mam.services.audit import AuditService
from mam.services.comments import (
    CommentService,
    comment_dict,
    parse_timecode,
    timecode,
    version_fps,
)
from mam.services.edit_rights import require_edit
from mam.services.review import ReviewService
from web.auth import STAFF, allow
from web.extensions import db_session, runtime
from web.messages import error_body

bp = Blueprint("review", __name__, url_prefix="/review")
COMMENTERS = (Role.REVIEWER, Role.PRODUCER, Role.ADMIN)


@bp.app_template_global()
def action_label(action: str) -> str:
    """Return the translated name of an audited action (the stored text if unknown)."""
    return _(action_name(action))


def rule_message(exc: MamError) -> str:
    """Return the user's-language message for a refused act (the domain's text otherwise)."""
    rule = exc.details.get("rule")
    messages = {
        "stale": _(
            "Someone else acted on this version meanwhile. The page now shows its current "
            "state; check it and try again."
        ),
        "superseded": _(
            "This version has been superseded by a newer version of the episode. "
            "Review the newest version."
        ),
        "own_upload": _("You uploaded this version, so you cannot approve it."),
        "two_stages": _(
            "You have already signed a stage of this version; another reviewer must sign "
            "the next stage."
        ),
        "stage_grant": _("You may not sign the current review stage of this version."),
        "reason": _("Please give a reason."),
        "qc": _("QC found problems. A reviewer must waive them with a reason before approval."),
        "state": _("This is not possible in the version's current state."),
        "role": _("You do not have permission to do this."),
        "sha256": _("The file you reviewed is not this version's file."),
        "empty": _("The comment is empty."),
        "timecode": _("The timecode is not valid."),
        "range": _("The range ends before it starts."),
        "nothing_to_waive": _("QC found nothing to waive."),
        "waived": _("The QC findings are already waived."),
    }
    if rule == "too_long":
        return _("The text is too long (at most %(limit)d characters).", limit=exc.details["limit"])
    return messages.get(str(rule)) or exc.translated(_)


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _service() -> ReviewService:
    from web.inbox import notifier  # noqa: PLC0415 - avoids an import cycle at load time

    return ReviewService(db_session(), runtime().storage, notifier=notifier())


def _int(name: str) -> int | None:
    return inputs.optional_int(request.form.get(name), name)


def page_context(version: Version) -> dict[str, Any]:
    """Return what the review page shows for ``version`` to the current user."""
    session = db_session()
    review = _service()
    fps = version_fps(version)
    findings, waiver = review.qc_status(version)
    can = review.can(version, _user())
    signatures = {d.stage_id: d for d in review.signatures(version)}
    return {
        "version": version,
        "episode": version.episode,
        "fps": fps,
        "stages": review.stages(),
        "signatures": signatures,
        "decisions": review.decisions(version),
        "current_stage": review.next_stage(version),
        "can": can,
        "submit_blocked": submit_blocked(version, can, review),
        "newer": review.newer_version(version),
        "findings": findings,
        "waiver": waiver,
        "threads": CommentService(session).threads(version.id),
        "history": [
            e
            for e in AuditService(session).episode_history(version.episode_id)
            if e.object_id == version.id
        ],
        "may_comment": _user().has_role(*COMMENTERS),
        "qc_markers": qc_markers(version),
        "tc": lambda frame: "" if frame is None else timecode(frame, fps),
    }


def submit_blocked(version: Version, can: dict[str, bool], review: ReviewService) -> str | None:
    """Return why the current producer cannot submit this ready version, naming who can."""
    user = _user()
    if (
        can["submit"]
        or version.state is not VersionState.READY
        or not user.has_role(Role.PRODUCER)
        or review.newer_version(version) is not None
    ):
        return None
    try:
        require_edit(db_session(), user, version.episode.programme)
    except MamError as exc:
        return exc.translated(_)
    return None


def qc_markers(version: Version) -> list[dict[str, Any]]:
    """Return the QC findings that have a place on the timeline (if processing made a report)."""
    report = getattr(version, "qc_report", None)
    findings = getattr(report, "findings", None) or []
    return [
        {"start": f["start"], "message": f.get("message", ""), "severity": f.get("severity")}
        for f in findings
        if isinstance(f, dict) and isinstance(f.get("start"), int | float)
    ]


def _page(version_id: int, status: int = 200) -> ResponseReturnValue:
    version = db_session().get(Version, version_id)
    if version is None:
        abort(404)
    return render_template("review.html", **page_context(version)), status


def _back(version_id: int) -> ResponseReturnValue:
    return redirect(url_for("review.version", version_id=version_id))


def _wants_json() -> bool:
    """Say whether the page's script sent this (fetch), not a plain form post."""
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _refused(exc: MamError) -> ResponseReturnValue:
    body = error_body(exc)
    body["error"] = body["message"] = rule_message(exc)
    return jsonify(body), exc.http_status


def _fragments(version: Version) -> dict[str, str]:
    """Return the parts of the review page a comment act changes, rendered as on the page."""
    fps = version_fps(version)
    threads = CommentService(db_session()).threads(version.id)
    context = {
        "version": version,
        "fps": fps,
        "threads": threads,
        "may_comment": _user().has_role(*COMMENTERS),
        "tc": lambda frame: "" if frame is None else timecode(frame, fps),
    }
    return {
        "threads": render_template("_review_threads.html", **context),
        "markers": render_template("_review_markers.html", **context),
        "count": ngettext("%(num)d thread", "%(num)d threads", len(threads)),
    }


def _thread_json(comment: Comment, status: int = 200) -> ResponseReturnValue:
    """Return a thread as JSON, with the page fragments that show it."""
    root = comment.parent or comment
    version = db_session().get_one(Version, root.version_id)
    body = comment_dict(root, version_fps(version))
    body["html"] = _fragments(version)
    return jsonify(body), status


@bp.route("/versions/<int:version_id>")
@allow(*STAFF)
def version(version_id: int) -> ResponseReturnValue:
    """Show a version for review: player, comments, chain, actions, history."""
    return _page(version_id)


def _act(version_id: int, act: Any, done: str) -> ResponseReturnValue:
    """Run a review act; on refusal re-show the page with the reason and the error status."""
    try:
        act()
    except MamError as exc:
        db_session().rollback()
        if _wants_json():  # the page shows the reason by the button, the player plays on
            return _refused(exc)
        flash(rule_message(exc), "error")
        return _page(version_id, exc.http_status)
    flash(done, "info")
    if _wants_json():
        return jsonify(location=url_for("review.version", version_id=version_id))
    return _back(version_id)


@bp.route("/versions/<int:version_id>/submit", methods=["POST"])
@allow(Role.PRODUCER, Role.ADMIN)
def submit(version_id: int) -> ResponseReturnValue:
    """Send a ready version into review."""
    return _act(
        version_id,
        lambda: _service().submit(version_id, _user(), expected_lock_version=_int("lock_version")),
        _("Submitted for review."),
    )


@bp.route("/versions/<int:version_id>/sign", methods=["POST"])
@allow(Role.REVIEWER)
def sign(version_id: int) -> ResponseReturnValue:
    """Sign the current stage (the last stage approves)."""
    return _act(
        version_id,
        lambda: _service().sign(
            version_id,
            _user(),
            stage_id=_int("stage_id"),
            sha256=request.form.get("sha256") or None,
            expected_lock_version=_int("lock_version"),
        ),
        _("Signed."),
    )


@bp.route("/versions/<int:version_id>/request-changes", methods=["POST"])
@allow(Role.REVIEWER)
def request_changes(version_id: int) -> ResponseReturnValue:
    """Send the version back to its producer with a reason."""
    return _act(
        version_id,
        lambda: _service().request_changes(
            version_id,
            _user(),
            request.form.get("reason"),
            stage_id=_int("stage_id"),
            expected_lock_version=_int("lock_version"),
        ),
        _("Changes requested."),
    )


@bp.route("/versions/<int:version_id>/waive", methods=["POST"])
@allow(Role.REVIEWER)
def waive(version_id: int) -> ResponseReturnValue:
    """Waive the version's QC failures with a reason."""
    return _act(
        version_id,
        lambda: _service().waive_qc(version_id, _user(), request.form.get("reason")),
        _("QC findings waived."),
    )


@bp.route("/versions/<int:version_id>/comments", methods=["GET"])
@allow(*STAFF)
def comments(version_id: int) -> ResponseReturnValue:
    """Return the version's comment threads as JSON."""
    version = db_session().get(Version, version_id)
    if version is None:
        abort(404)
    fps = version_fps(version)
    threads = CommentService(db_session()).threads(version_id)
    return jsonify(fps=fps, comments=[comment_dict(c, fps) for c in threads])


@bp.route("/versions/<int:version_id>/comments", methods=["POST"])
@allow(*COMMENTERS)
def add_comment(version_id: int) -> ResponseReturnValue:
    """Add a comment (form or JSON): at a timecode, over a range, or as a reply."""
    version = db_session().get(Version, version_id)
    if version is None:
        abort(404)
    data = request.get_json(silent=True) if request.is_json else request.form
    data = data or {}
    fps = version_fps(version)
    try:
        start = data.get("start_tc") or None
        end = data.get("end_tc") or None
        parent = data.get("parent_id")
        comment = CommentService(db_session()).add(
            version_id,
            _user(),
            data.get("body"),
            start_frame=parse_timecode(start, fps) if start else None,
            end_frame=parse_timecode(end, fps) if end else None,
            parent_id=inputs.optional_int(parent, "parent_id", minimum=1),
        )
    except MamError as exc:
        db_session().rollback()
        if _wants_json():
            return _refused(exc)
        flash(rule_message(exc), "error")
        return _page(version_id, exc.http_status)
    if _wants_json():
        return _thread_json(comment, 201)
    return redirect(url_for("review.version", version_id=version_id) + f"#c{comment.id}")


def _resolve(comment_id: int, *, resolved: bool) -> ResponseReturnValue:
    service = CommentService(db_session())
    try:
        comment = (service.resolve if resolved else service.reopen)(comment_id, _user())
    except MamError as exc:
        db_session().rollback()
        if exc.http_status == 404:
            abort(404)
        if _wants_json():
            return _refused(exc)
        flash(rule_message(exc), "error")
        return redirect(request.referrer or url_for("catalogue.index"))
    if _wants_json():
        return _thread_json(comment)
    return redirect(url_for("review.version", version_id=comment.version_id) + f"#c{comment.id}")


@bp.route("/comments/<int:comment_id>/resolve", methods=["POST"])
@allow(*COMMENTERS)
def resolve(comment_id: int) -> ResponseReturnValue:
    """Mark a thread resolved."""
    return _resolve(comment_id, resolved=True)


@bp.route("/comments/<int:comment_id>/reopen", methods=["POST"])
@allow(*COMMENTERS)
def reopen(comment_id: int) -> ResponseReturnValue:
    """Open a resolved thread again."""
    return _resolve(comment_id, resolved=False)


@bp.route("/compare")
@allow(*STAFF)
def compare() -> ResponseReturnValue:
    """Show two versions of one episode side by side."""
    session = db_session()
    left = session.get(Version, inputs.lenient_id(request.args.get("a")) or 0)
    right = session.get(Version, inputs.lenient_id(request.args.get("b")) or 0)
    if left is None or right is None:
        abort(404)
    if left.episode_id != right.episode_id:
        abort(400)
    return render_template("review_compare.html", left=left, right=right, episode=left.episode)
