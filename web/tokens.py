"""API tokens: ``Authorization: Bearer`` sign-in, scopes, and the page to manage them.

A request signed by a token carries no cookie, so it cannot be forged by another site and
needs no CSRF token. Views that accept both (JSON API writes, tus, county receipts) are
exempt from Flask-WTF's form check and call :func:`require_csrf`, which insists on a CSRF
token whenever the caller is signed in by the session cookie.

Tokens are accepted under ``/api/``, ``/upload/files`` and ``/county/``. Each view says which
scopes it accepts with :func:`accepts_token` (``/api/`` and tus accept ``api`` unless they
say otherwise; other views accept no token). A token request is never sent to the login
page: a bad token gets 401, a token whose scopes do not cover the view gets 403, as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import SelectField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.validators import ValidationError as WTFValidationError

from mam.errors import InvalidInput
from mam.models import Role, utcnow
from mam.services.tokens import SCOPE_API, SCOPE_COUNTY, TokenCheck, TokenService
from web.auth import allow
from web.extensions import db_session

bp = Blueprint("tokens", __name__)
TOKEN_PATHS = ("/api/", "/upload/files", "/county/")
# Endpoints that read a Bearer secret of their own (not a personal token): /metrics takes
# MAM_METRICS_TOKEN for Prometheus.
OWN_BEARER_ENDPOINTS = frozenset({"ops.metrics"})
_DEFAULT_SCOPES = {"/api/": frozenset({SCOPE_API}), "/upload/files": frozenset({SCOPE_API})}
F = TypeVar("F", bound=Callable[..., Any])


def accepts_token(*scopes: str) -> Callable[[F], F]:
    """Declare which token scopes may call a view (any one of them is enough)."""

    def mark(view: F) -> F:
        view._mam_token_scopes = frozenset(scopes)  # type: ignore[attr-defined]
        return view

    return mark


def _accepted_scopes() -> frozenset[str]:
    view = current_app.view_functions.get(request.endpoint or "")
    declared: frozenset[str] | None = getattr(view, "_mam_token_scopes", None)
    if declared is not None:
        return declared
    return next((s for p, s in _DEFAULT_SCOPES.items() if request.path.startswith(p)), frozenset())


def _refuse(status: int, message: str) -> ResponseReturnValue:
    response = jsonify(error=message, status=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="mam", error="invalid_token"'
    return response, status


def _refusal(checked: TokenCheck) -> ResponseReturnValue | None:
    """Return the 401/403 answer for a token that may not sign in this request, or None."""
    if checked.user is None:
        if checked.reason == "expired" and checked.token and checked.token.expires_at:
            return _refuse(
                401,
                _("The API token expired on %(date)s.", date=checked.token.expires_at.date()),
            )
        return _refuse(401, _("The API token is wrong or was revoked."))
    if not checked.scopes & _accepted_scopes():
        return _refuse(
            403,
            _(
                "This API token may not be used here (its scopes: %(scopes)s).",
                scopes=", ".join(sorted(checked.scopes)),
            ),
        )
    return None


@bp.before_app_request
def _sign_in_by_token() -> ResponseReturnValue | None:
    """Take the user from a Bearer token (before anything looks at the cookie session)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or request.endpoint in OWN_BEARER_ENDPOINTS:
        return None
    if not request.path.startswith(TOKEN_PATHS) or request.endpoint is None:
        if request.endpoint is None:
            return None  # no such route: the 404 handler answers (as JSON, see web.errors)
        return _refuse(403, _("API tokens are not accepted on this page."))
    checked = TokenService(db_session()).check(header[7:].strip())
    refusal = _refusal(checked)
    if refusal is not None:
        return refusal
    g._login_user = checked.user  # how Flask-Login keeps the current user; no session touched
    g.token_auth = True
    return None


def token_authenticated() -> bool:
    """Say whether this request was signed in by an API token (not a cookie)."""
    return bool(g.get("token_auth"))


def bearer_request() -> bool:
    """Say whether the request presents a Bearer token (answered as JSON, never redirected)."""
    return request.headers.get("Authorization", "").startswith("Bearer ")


def require_csrf() -> None:
    """Check the CSRF token (header or form field) unless the request is token-authenticated."""
    if token_authenticated():
        return
    try:
        validate_csrf(request.headers.get("X-CSRFToken") or request.form.get("csrf_token"))
    except WTFValidationError as exc:
        raise CSRFError(str(exc)) from exc


EXPIRY_CHOICES = {
    "": lazy_gettext("Does not expire"),
    "30": lazy_gettext("In 30 days"),
    "90": lazy_gettext("In 90 days"),
    "365": lazy_gettext("In a year"),
}
SCOPE_LABELS = {
    SCOPE_API: lazy_gettext("The JSON API, as me (everything I may do)"),
    SCOPE_COUNTY: lazy_gettext("County downloads only: feeds, packages, receipts"),
}


class TokenForm(FlaskForm):
    name = StringField(lazy_gettext("Token name"), validators=[DataRequired(), Length(max=100)])
    scopes = SelectMultipleField(
        lazy_gettext("May be used for"),
        choices=[SelectChoice(k, v) for k, v in SCOPE_LABELS.items()],
        default=[SCOPE_API],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )
    expires = SelectField(
        lazy_gettext("Expires"),
        choices=[SelectChoice(k, v) for k, v in EXPIRY_CHOICES.items()],
        default="",
    )


@bp.route("/account/tokens", methods=["GET", "POST"])
@allow(*(r for r in Role if r is not Role.SYSTEM))
def manage() -> ResponseReturnValue:
    """List the user's API tokens and issue a new one (its secret is shown once)."""
    service = TokenService(db_session())
    form = TokenForm()
    if request.method == "GET" and current_user.has_role(Role.COUNTY):
        form.scopes.data = [SCOPE_COUNTY]
    secret, status = None, 200
    if form.validate_on_submit():
        try:
            secret, _row = service.issue(
                current_user,
                form.name.data or "",
                scopes=form.scopes.data or [],
                expires_in_days=int(form.expires.data) if form.expires.data else None,
            )
        except InvalidInput as exc:
            flash(exc.translated(_), "error")
            status = 400
    elif request.method == "POST":
        status = 400
    return render_template(
        "catalogue_tokens.html",
        form=form,
        tokens=service.tokens(current_user),
        secret=secret,
        now=utcnow(),
        scope_labels=SCOPE_LABELS,
    ), status


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@allow(*(r for r in Role if r is not Role.SYSTEM))
def revoke(token_id: int) -> ResponseReturnValue:
    """Revoke one of the user's tokens."""
    TokenService(db_session()).revoke(current_user, token_id)
    flash(_("The token was revoked."), "info")
    return redirect(url_for("tokens.manage"))
