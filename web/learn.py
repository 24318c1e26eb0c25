"""The learner portal (网上党员教育): the county's films, the player, my study records.

Learners reach only these pages, their account pages and the HLS routes of the films
their county received (``web.hls``). The player reports progress with heartbeats; what is
credited is decided by ``mam.services.study`` against the segments really served.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from mam.errors import MamError
from mam.inputs import lenient_id
from mam.models import Role, Version
from mam.models.catalogue import Subtitle
from mam.services.study import Playable, StudyService
from mam.services.study_reports import StudyReports
from mam.services.subtitles import current_subtitles
from web.auth import allow
from web.extensions import db_session, storage
from web.media import _serve

bp = Blueprint("learn", __name__, url_prefix="/learn")
HEARTBEAT_SECONDS = 10


def _service() -> StudyService:
    if current_user.county_id is None:
        abort(403)
    return StudyService(db_session())


def _by_programme(items: list[Playable]) -> list[tuple[str, list[Playable]]]:
    groups: dict[str, list[Playable]] = {}
    for item in items:
        groups.setdefault(item.episode.programme.name, []).append(item)
    return sorted(groups.items())


@bp.route("/")
@allow(Role.LEARNER)
def index() -> ResponseReturnValue:
    """List the county's films by programme, optionally of one topic."""
    service = _service()
    topic = lenient_id(request.args.get("topic"))
    items = service.playable(current_user.county_id, topic_id=topic)
    done = {r.episode_id: r for r in service.records(current_user)}
    return render_template(
        "learn/index.html",
        groups=_by_programme(items),
        topics=service.topics_for(current_user.county_id),
        topic=topic,
        records=done,
    )


@bp.route("/episodes/<int:episode_id>")
@allow(Role.LEARNER)
def episode(episode_id: int) -> ResponseReturnValue:
    """Show the player, starting where the learner stopped."""
    service = _service()
    try:
        item = service.episode_for(current_user, episode_id)
        record = service.open(current_user, episode_id)
    except MamError:
        abort(404)
    subtitles = current_subtitles(db_session(), item.version)
    response = render_template(
        "learn/episode.html",
        item=item,
        record=record,
        resume=service.resume_at(record),
        subtitles=subtitles,
        heartbeat_seconds=HEARTBEAT_SECONDS,
    )
    db_session().flush()  # the record is started on first view (committed after the view)
    return response


@bp.route("/episodes/<int:episode_id>/progress", methods=["POST"])
@allow(Role.LEARNER)
def progress(episode_id: int) -> ResponseReturnValue:
    """Take a heartbeat: seconds played since the last one and the position (JSON)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error=_("Send a JSON object."), status=400), 400
    session = db_session()
    try:
        record = _service().heartbeat(
            current_user, episode_id, position=data.get("position"), watched=data.get("watched")
        )
    except MamError as exc:
        session.rollback()
        return jsonify(error=exc.translated(_), status=exc.http_status), exc.http_status
    result = {
        "watched_seconds": round(record.watched_seconds, 1),
        "duration": record.duration,
        "position": record.position,
        "completed": record.completed,
    }
    session.flush()
    return jsonify(result)


@bp.route("/records")
@allow(Role.LEARNER)
def records() -> ResponseReturnValue:
    """Show the learner's study records (我的学习记录) and total hours."""
    service = _service()
    return render_template(
        "learn/records.html",
        records=service.records(current_user),
        totals=StudyReports(db_session()).learner(current_user.id),
    )


@bp.route("/posters/<int:version_id>")
@allow(Role.LEARNER)
def poster(version_id: int) -> ResponseReturnValue:
    """Return the poster of a film the learner's county received."""
    service = _service()
    if not service.may_stream(current_user, version_id):
        abort(404)
    version = db_session().get(Version, version_id)
    image = version.rendition("poster") if version else None
    if image is None:
        abort(404)
    key, mime = image.storage_key, image.mime_type
    db_session().close()
    return _serve(key, mime, f"poster-{version_id}.jpg")


@bp.route("/subtitles/<int:subtitle_id>.vtt")
@allow(Role.LEARNER)
def subtitle(subtitle_id: int) -> ResponseReturnValue:
    """Return a WebVTT subtitle track of a film the learner may watch."""
    row = db_session().get(Subtitle, subtitle_id)
    if row is None or not row.is_current:
        abort(404)
    try:
        _service().episode_for(current_user, row.episode_id)
    except MamError:
        abort(404)
    with storage().open(row.storage_key) as fh:
        response = Response(fh.read(), mimetype="text/vtt")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
