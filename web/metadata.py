"""Episode metadata editing, subtitles and the topic taxonomy (admins)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from mam.errors import MamError, NotAllowed, NotFound
from mam.models import Episode, Role
from mam.models.catalogue import Subtitle
from mam.services import metadata
from mam.services.edit_rights import may_edit_programme
from mam.services.subtitles import SubtitleService
from mam.services.topics import TopicService
from web.auth import STAFF, allow
from web.extensions import db_session, runtime, storage
from web.subtitles import added_message

bp = Blueprint("metadata", __name__)
EDITORS = (Role.PRODUCER, Role.ADMIN)
FORM_FIELDS = (*metadata.FIELDS,)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    def catalogue_meta(episode: Episode) -> dict[str, Any]:
        s = db_session()
        subtitles = s.scalars(
            select(Subtitle)
            .where(Subtitle.episode_id == episode.id, Subtitle.is_current.is_(True))
            .order_by(Subtitle.id)
        ).all()
        return {
            "values": metadata.metadata_dict(s, episode),
            "topics": metadata.ensure_topics(s),
            "subtitles": subtitles,
        }

    def can_edit_metadata(episode: Episode | None = None) -> bool:
        if not (current_user.is_authenticated and current_user.has_role(*EDITORS)):
            return False
        return episode is None or may_edit_programme(db_session(), current_user, episode.programme)

    return {"catalogue_meta": catalogue_meta, "can_edit_metadata": can_edit_metadata}


@bp.route("/episodes/<int:episode_id>/metadata", methods=["POST"])
@allow(*EDITORS)
def edit(episode_id: int) -> ResponseReturnValue:
    """Save the metadata form of an episode."""
    s = db_session()
    episode = metadata.episode_or_404(s, episode_id)
    raw: dict[str, Any] = {name: request.form.get(name, "") for name in FORM_FIELDS}
    raw["topics"] = request.form.getlist("topics")
    if not raw["source"]:
        raw.pop("source")
    title = request.form.get("title", "")
    try:
        cleaned = metadata.clean_metadata(s, raw)
        metadata.apply_metadata(
            s, episode, cleaned, current_user, title=title if title.strip() else None
        )
        s.flush()
    except MamError as exc:
        s.rollback()
        if isinstance(exc, NotAllowed):
            raise  # a 403 page with the reason and who may edit
        flash(_("Not saved: %(reason)s", reason=exc.translated(_)), "error")
    else:
        flash(_("Metadata saved."), "info")
    return redirect(url_for("catalogue.episode", episode_id=episode_id) + "#metadata")


@bp.route("/episodes/<int:episode_id>/subtitles", methods=["POST"])
@allow(*EDITORS)
def add_subtitle(episode_id: int) -> ResponseReturnValue:
    """Attach an SRT or VTT file (stored as VTT)."""
    s = db_session()
    episode = metadata.episode_or_404(s, episode_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a subtitle file (.srt or .vtt)."), "error")
    else:
        service = SubtitleService(s, storage(), runtime().settings.profiles)
        try:
            service.attach(
                episode,
                upload.read(),
                upload.filename,
                request.form.get("language", "zh"),
                current_user,
            )
            flash(added_message(bool(service.reburned)), "info")
        except MamError as exc:
            s.rollback()
            if isinstance(exc, NotAllowed):
                raise
            flash(_("Subtitles refused: %(reason)s", reason=exc.translated(_)), "error")
        finally:
            upload.close()
    return redirect(url_for("catalogue.episode", episode_id=episode_id) + "#metadata")


@bp.route("/subtitles/<int:subtitle_id>.vtt")
@allow(*STAFF)
def subtitle(subtitle_id: int) -> ResponseReturnValue:
    """Serve a stored WebVTT file."""
    row = db_session().get(Subtitle, subtitle_id)
    if row is None:
        abort(404)
    with storage().open(row.storage_key) as fh:
        return Response(fh.read(), mimetype="text/vtt")


@bp.route("/topics", methods=["GET", "POST"])
@allow(Role.ADMIN)
def topics() -> ResponseReturnValue:
    """Edit the topic taxonomy: add, rename, retire or restore topics."""
    s = db_session()
    service = TopicService(s)
    if request.method == "POST":
        action, form = request.form.get("action"), request.form
        try:
            if action == "add":
                service.add(form.get("name"), current_user)
                message = _("Topic added.")
            elif action == "rename":
                service.rename(form.get("topic_id"), form.get("name"), current_user)
                message = _("Topic saved.")
            elif action == "toggle":
                service.toggle(form.get("topic_id"), current_user)
                message = _("Topic saved.")
            else:
                abort(400)
            s.flush()
            flash(message, "info")
        except NotFound:
            s.rollback()
            abort(404)
        except MamError as exc:
            s.rollback()
            flash(exc.translated(_), "error")
        return redirect(url_for("metadata.topics"))
    rows = service.all()
    return render_template("catalogue_topics.html", topics=rows)
