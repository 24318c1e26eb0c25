"""The inbox: what awaits the signed-in user, and its count in the navigation."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from mam.services.inbox import inbox_for
from mam.services.notify import Notifier, make_notifier
from web.auth import STAFF, allow
from web.extensions import db_session, runtime

bp = Blueprint("inbox", __name__)


def notifier() -> Notifier:
    """Return the mail notifier (sends nothing unless MAM_SMTP_URL is set)."""
    settings = runtime().settings
    return make_notifier(settings.smtp_url, settings.mail_from, request.url_root)


@bp.route("/inbox")
@allow(*STAFF)
def index() -> ResponseReturnValue:
    """List what awaits the user."""
    return render_template("inbox.html", box=inbox_for(db_session(), current_user))


def _count() -> dict[str, Any]:
    if not current_user.is_authenticated or not current_user.has_role(*STAFF):
        return {"inbox_count": None}
    return {"inbox_count": inbox_for(db_session(), current_user).count}


@bp.record_once
def _register(state: Any) -> None:
    app: Flask = state.app
    app.context_processor(_count)
