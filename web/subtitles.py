"""Subtitles of a version: the WebVTT tracks the review player loads, and the timed editor.

The editor's operations are answered by ``mam.services.subtitle_editor`` (the page sends
its cue list and gets the new one back; nothing is stored); saving stores a revision.
Producers of the programme and admins edit; every staff member sees the tracks.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from mam.errors import MamError
from mam.models import Role, Version
from mam.services.comments import version_fps
from mam.services.edit_rights import may_edit_programme
from mam.services.subtitle_editor import SubtitleEditor, apply, parse_cues
from mam.services.subtitles import (
    SubtitleService,
    current_subtitle,
    current_subtitles,
    language_name,
    normalise_language,
    parse_subtitles,
    read_vtt,
)
from web.auth import STAFF, allow
from web.extensions import db_session, runtime, storage
from web.messages import error_body

bp = Blueprint("subtitles", __name__, url_prefix="/review/versions/<int:version_id>/subtitles")
EDITORS = (Role.PRODUCER, Role.ADMIN)


def added_message(reburned: bool) -> str:
    """Return what a producer is told when subtitles were added (and made stale copies)."""
    if reburned:
        return str(_("Subtitles added; the copies with burned-in subtitles are being made again."))
    return str(_("Subtitles added."))
EDITOR_LANGUAGES = ("zh", "en")


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    def review_subtitles(version: Version) -> dict[str, Any]:
        rows = current_subtitles(db_session(), version)
        user = current_user
        may_edit = bool(
            user.is_authenticated
            and user.has_role(*EDITORS)
            and may_edit_programme(db_session(), user, version.episode.programme)
        )
        languages = [r.language for r in rows]
        languages += [code for code in EDITOR_LANGUAGES if code not in languages]
        return {
            "tracks": [
                {
                    "language": r.language,
                    "label": language_name(r.language),
                    "src": url_for(
                        "subtitles.track",
                        version_id=version.id,
                        language=r.language,
                        r=r.id,
                    ),
                }
                for r in rows
            ],
            "languages": [(code, language_name(code)) for code in languages],
            "may_edit": may_edit,
        }

    return {"review_subtitles": review_subtitles, "subtitle_language": language_name}


def _version(version_id: int) -> Version:
    version = db_session().get(Version, version_id)
    if version is None:
        abort(404)
    return version


def _language(language: str) -> str:
    try:
        return normalise_language(language)
    except MamError:
        abort(404)


def _refused(exc: MamError) -> ResponseReturnValue:
    db_session().rollback()
    return jsonify(error_body(exc)), exc.http_status


def _number(value: Any, low: float, high: float) -> float:
    """Return a number the page sent, clamped to [low, high]; anything else is 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return 0.0
    return float(min(max(value, low), high))


def _cue_list(cues: list[Any]) -> list[dict[str, Any]]:
    return [{"start": c.start, "end": c.end, "text": c.text} for c in cues]


@bp.route("/<language>.vtt")
@allow(*STAFF)
def track(version_id: int, language: str) -> ResponseReturnValue:
    """Return the WebVTT track a version plays in ``language``."""
    row = current_subtitle(db_session(), _version(version_id), _language(language))
    if row is None:
        abort(404)
    response = Response(read_vtt(storage(), row), mimetype="text/vtt")
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/<language>/cues")
@allow(*STAFF)
def cues(version_id: int, language: str) -> ResponseReturnValue:
    """Return the cues of a language as JSON (empty when there are none yet), with the fps."""
    version = _version(version_id)
    code = _language(language)
    row = current_subtitle(db_session(), version, code)
    found = parse_subtitles(read_vtt(storage(), row), f"{code}.vtt") if row else []
    return jsonify(
        language=code,
        revision=row.revision if row else 0,
        fps=version_fps(version),
        cues=_cue_list(found),
    )


@bp.route("/<language>/apply", methods=["POST"])
@allow(*EDITORS)
def operate(version_id: int, language: str) -> ResponseReturnValue:
    """Apply one editing operation to the cue list sent and return the new list (not saved)."""
    version = _version(version_id)
    _language(language)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error=_("Send a JSON object."), status=400), 400
    try:
        selected = data.get("selected") or []
        if not isinstance(selected, list):
            selected = []
        result = apply(
            str(data.get("op", "")),
            parse_cues(data.get("cues")),
            fps=version_fps(version),
            at=_number(data.get("at"), 0, 360_000),
            selected=[i for i in selected if isinstance(i, int) and not isinstance(i, bool)],
            ms=round(_number(data.get("ms"), -3_600_000, 3_600_000)),
        )
    except MamError as exc:
        return _refused(exc)
    return jsonify(cues=_cue_list(result))


@bp.route("/<language>", methods=["POST"])
@allow(*EDITORS)
def save(version_id: int, language: str) -> ResponseReturnValue:
    """Save the cue list sent as a new revision of the version's subtitles (JSON)."""
    version = _version(version_id)
    code = _language(language)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error=_("Send a JSON object."), status=400), 400
    editor = SubtitleEditor(db_session(), storage(), runtime().settings.profiles)
    try:
        row = editor.save(version, code, data.get("cues"), current_user)
    except MamError as exc:
        return _refused(exc)
    saved = parse_subtitles(read_vtt(storage(), row), row.original_filename)
    message = (
        _("Subtitles saved (revision %(n)d); the copies with burned-in subtitles are being "
          "made again.", n=row.revision)
        if editor.reburned
        else _("Subtitles saved (revision %(n)d).", n=row.revision)
    )  # fmt: skip
    return jsonify(
        message=message,
        reburn_jobs=[job.id for job in editor.reburned],
        revision=row.revision,
        src=url_for("subtitles.track", version_id=version.id, language=code, r=row.id),
        cues=_cue_list(saved),
    )


@bp.route("/upload", methods=["POST"])
@allow(*EDITORS)
def upload(version_id: int) -> ResponseReturnValue:
    """Attach an SRT or VTT file to this version (a form post; answers with the review page)."""
    version = _version(version_id)
    file = request.files.get("file")
    if file is None or not file.filename:
        flash(_("Choose a subtitle file (.srt or .vtt)."), "error")
    else:
        service = SubtitleService(db_session(), storage(), runtime().settings.profiles)
        try:
            service.attach(
                version.episode,
                file.read(),
                file.filename,
                request.form.get("language", "zh"),
                current_user,
                version=version,
            )
            flash(added_message(bool(service.reburned)), "info")
        except MamError as exc:
            db_session().rollback()
            flash(_("Subtitles refused: %(reason)s", reason=exc.translated(_)), "error")
        finally:
            file.close()
    return redirect(url_for("review.version", version_id=version_id) + "#subtitles")
