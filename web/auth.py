"""Login, logout and the deny-by-default route policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from mam.models import AuditEvent, Role
from mam.services.audit import login_blocked
from mam.services.users import UserService
from web.extensions import db_session, login_manager

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])
PUBLIC = "public"
STAFF = (Role.PRODUCER, Role.REVIEWER, Role.PUBLISHER, Role.ADMIN)


def allow(*roles: Role | str) -> Callable[[F], F]:
    """Declare who may call a view: roles, or ``PUBLIC``. Undeclared views are refused."""

    def mark(view: F) -> F:
        view._mam_allow = frozenset(roles)  # type: ignore[attr-defined]
        return view

    return mark


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_policy(app: Flask) -> None:
    """Check every request against its view's declared roles before the view runs."""

    @app.before_request
    def enforce() -> ResponseReturnValue | None:
        if request.endpoint is None:  # no such route: let it 404/405
            return None
        if request.endpoint == "static":
            return None
        view = app.view_functions[request.endpoint]
        allowed: frozenset[Any] | None = getattr(view, "_mam_allow", None)
        if allowed is None:
            abort(403)  # deny by default: the view declared nobody
        if PUBLIC in allowed:
            return None
        if not current_user.is_authenticated:
            if _wants_json():
                return jsonify(error="login required"), 401
            return login_manager.unauthorized()
        if not current_user.roles & allowed:
            abort(403)
        return None


class LoginForm(FlaskForm):
    username = StringField(lazy_gettext("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired(), Length(max=256)])


def _safe_next(target: str | None) -> str | None:
    """Accept only same-site relative paths as a redirect target."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(roles: frozenset[Role]) -> str:
    """Return the landing page for a user's roles."""
    if roles & set(STAFF):
        return url_for("catalogue.index")
    return url_for("county.index") if Role.COUNTY in roles else url_for("auth.account")


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login() -> ResponseReturnValue:
    """Show the login form; sign in on a valid POST."""
    form = LoginForm()
    if form.validate_on_submit():
        session = db_session()
        if login_blocked(session, form.username.data or "", request.remote_addr):
            flash(_("Too many failed sign-in attempts. Wait 15 minutes and try again."), "error")
            return render_template("login.html", form=form), 429
        user = UserService(session).authenticate(form.username.data or "", form.password.data or "")
        if user is None:
            session.add(
                AuditEvent(
                    action="login_failed",
                    object_type="user",
                    details={
                        "username": (form.username.data or "")[:64],
                        "ip": request.remote_addr,
                    },
                )
            )
            session.commit()
            flash(_("Wrong username or password."), "error")
            return render_template("login.html", form=form), 401
        login_user(user)
        session.add(
            AuditEvent(
                actor_id=user.id,
                action="login",
                object_type="user",
                object_id=user.id,
                details={"ip": request.remote_addr},
            )
        )
        session.commit()
        return redirect(_safe_next(request.args.get("next")) or home_for(user.roles))
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
@allow(*Role)
def logout() -> ResponseReturnValue:
    """Sign out (POST with CSRF token, so a link cannot log anyone out)."""
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account")
@allow(*Role)
def account() -> ResponseReturnValue:
    """Show who is signed in and with which roles."""
    return render_template("account.html")
