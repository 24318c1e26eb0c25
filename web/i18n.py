"""Language switch (zh_CN default, en)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from web.auth import PUBLIC, _safe_next, allow
from web.extensions import LOCALES

bp = Blueprint("i18n", __name__)


@bp.route("/language/<code>", methods=["POST"])
@allow(PUBLIC)
def set_language(code: str) -> ResponseReturnValue:
    """Remember the chosen UI language in the session, and on the account (mail, the API)."""
    if code not in LOCALES:
        abort(404)
    session["locale"] = code
    if current_user.is_authenticated:
        current_user.locale = code  # saved when the request's unit of work commits
    return redirect(_safe_next(request.form.get("next")) or url_for("catalogue.index"))
