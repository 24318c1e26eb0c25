"""Processing on the web: the admin's retry of a failed job, and the thumbnail files
(scrub-preview sprite sheets, their WebVTT track, evenly spaced thumbnails)."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from mam.errors import NotAllowed
from mam.models import Job, Role, Version
from mam.models.processing import ThumbnailSet
from mam.services.processing import ProcessingService
from storage import ObjectNotFound
from web.auth import STAFF, allow
from web.extensions import db_session, storage
from web.media import _serve
from web.transactions import commit_before_streaming

bp = Blueprint("jobs", __name__)
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MIME = {".jpg": "image/jpeg", ".vtt": "text/vtt"}
SPRITE_LINK = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]{0,99}\.jpg)(#xywh=[0-9,]+)$", re.MULTILINE)


@bp.route("/jobs/<int:job_id>/retry", methods=["POST"])
@allow(Role.ADMIN)
def retry(job_id: int) -> ResponseReturnValue:
    """Queue a failed processing job again, then go back to its episode."""
    session = db_session()
    job = session.get(Job, job_id)
    if job is None or job.version is None:
        abort(404)
    episode_id = job.version.episode_id
    try:
        ProcessingService(session, storage()).retry(job_id, current_user)
    except NotAllowed as exc:
        session.rollback()
        flash(exc.translated(_), "error")
    else:  # sent to the workers after the request's commit (mam.outbox)
        flash(_("Job %(id)d is queued again.", id=job_id), "info")
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("catalogue.episode", episode_id=episode_id)
    return redirect(target)


@bp.route("/versions/<int:version_id>/thumbs/<name>")
@allow(*STAFF)
def thumbnail_file(version_id: int, name: str) -> ResponseReturnValue:
    """Serve one file of a version's thumbnail set (sprite sheet, WebVTT track, thumbnail)."""
    if not FILE_NAME.match(name):
        abort(404)
    session = db_session()
    if session.get(Version, version_id) is None:
        abort(404)
    thumbs = session.query(ThumbnailSet).filter_by(version_id=version_id).one_or_none()
    key = f"thumbs/{version_id}/{name}"
    known = set(thumbs.sprite_keys) | {t["key"] for t in thumbs.thumbnails} if thumbs else set()
    if thumbs is None or key not in known | {thumbs.vtt_key}:
        abort(404)
    commit_before_streaming()  # do not hold a database transaction while streaming
    suffix = name[name.rfind(".") :]
    if suffix == ".vtt":
        return _thumbnails_track(version_id, key)
    return _serve(key, MIME.get(suffix, "application/octet-stream"), name)


def _thumbnails_track(version_id: int, key: str) -> ResponseReturnValue:
    """Serve the sprite WebVTT track from the app, its image links made absolute.

    The page reads the track with fetch(): a redirect to a presigned S3 URL would be a
    cross-origin read (refused without a CORS rule on the bucket), and the relative
    ``sprite-001.jpg`` links would resolve against S3's signed URL. The images
    themselves go through the route above (a redirect is fine for pictures).
    """
    try:
        with storage().open(key) as fh:
            text = fh.read().decode("utf-8")
    except ObjectNotFound:
        abort(404)

    def absolute(match: re.Match[str]) -> str:
        url = url_for("jobs.thumbnail_file", version_id=version_id, name=match[1], _external=True)
        return url + match[2]

    body = SPRITE_LINK.sub(absolute, text)
    response = Response(body, mimetype="text/vtt")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
