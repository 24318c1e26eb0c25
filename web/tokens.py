"""API tokens: ``Authorization: Bearer`` sign-in for /api and tus, and the page to manage them.

A request signed by a token carries no cookie, so it cannot be forged by another site and
needs no CSRF token. Views that accept both (JSON API writes, tus) are exempt from
Flask-WTF's form check and call :func:`require_csrf`, which insists on the
``X-CSRFToken`` header whenever the caller is signed in by the session cookie.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import StringField
from wtforms.validators import DataRequired, Length
from wtforms.validators import ValidationError as WTFValidationError

from mam.models import Role
from mam.services.tokens import TokenService
from web.auth import allow
from web.extensions import db_session

bp = Blueprint("tokens", __name__)
TOKEN_PATHS = ("/api/", "/upload/files")


@bp.before_app_request
def _sign_in_by_token() -> ResponseReturnValue | None:
    """Take the user from a Bearer token (before anything looks at the cookie session)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not request.path.startswith(TOKEN_PATHS):
        return None
    user = TokenService(db_session()).authenticate(header[7:].strip())
    if user is None:
        return jsonify(error=_("The API token is wrong or was revoked."), status=401), 401
    g._login_user = user  # how Flask-Login keeps the current user; no session is touched
    g.token_auth = True
    return None


def token_authenticated() -> bool:
    """Say whether this request was signed in by an API token (not a cookie)."""
    return bool(g.get("token_auth"))


def require_csrf() -> None:
    """Check the X-CSRFToken header unless the request is token-authenticated."""
    if token_authenticated():
        return
    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except WTFValidationError as exc:
        raise CSRFError(str(exc)) from exc


class TokenForm(FlaskForm):
    name = StringField(lazy_gettext("Token name"), validators=[DataRequired(), Length(max=100)])


@bp.route("/account/tokens", methods=["GET", "POST"])
@allow(*(r for r in Role if r is not Role.SYSTEM))
def manage() -> ResponseReturnValue:
    """List the user's API tokens and issue a new one (its secret is shown once)."""
    service = TokenService(db_session())
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        secret, _row = service.issue(current_user, form.name.data or "")
    return render_template(
        "catalogue_tokens.html", form=form, tokens=service.tokens(current_user), secret=secret
    )


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@allow(*(r for r in Role if r is not Role.SYSTEM))
def revoke(token_id: int) -> ResponseReturnValue:
    """Revoke one of the user's tokens."""
    TokenService(db_session()).revoke(current_user, token_id)
    flash(_("The token was revoked."), "info")
    return redirect(url_for("tokens.manage"))
