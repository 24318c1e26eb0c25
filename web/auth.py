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
from flask import session as flask_session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from mam.errors import MamError
from mam.models import Role
from mam.services.audit import login_blocked
from mam.services.sessions import SessionService
from mam.services.users import UserService
from web.extensions import SESSION_TOKEN, db_session, login_manager

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])
PUBLIC = "public"
STAFF = (Role.PRODUCER, Role.REVIEWER, Role.PUBLISHER, Role.ADMIN)
# What a user signed in with a temporary password may do before choosing a new one.
WHILE_TEMPORARY = frozenset({"auth.password", "auth.logout", "i18n.set_language"})


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

    @app.before_request
    def require_new_password() -> ResponseReturnValue | None:
        if (
            not current_user.is_authenticated
            or not current_user.must_change_password
            or request.endpoint in WHILE_TEMPORARY
            or request.endpoint in (None, "static")
        ):
            return None
        message = _("Your password was reset. Choose a new password to go on.")
        if _wants_json():
            return jsonify(error=message, status=403), 403
        flash(message, "info")
        return redirect(url_for("auth.password"))


class LoginForm(FlaskForm):
    username = StringField(
        lazy_gettext("Username or phone number"), validators=[DataRequired(), Length(max=64)]
    )
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
    if Role.COUNTY in roles:
        return url_for("county.index")
    if Role.LEARNER in roles:
        return url_for("learn.index")
    return url_for("network.index") if Role.TOWNSHIP in roles else url_for("auth.account")


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
            SessionService(session).sign_in_failed(form.username.data or "", request.remote_addr)
            session.flush()
            off = UserService(session).deactivated(
                form.username.data or "", form.password.data or ""
            )
            if off is not None and off.has_role(Role.LEARNER):
                flash(
                    _(
                        "Your learner account was deactivated by your county's education "
                        "centre. Ask them to reactivate it."
                    ),
                    "error",
                )
                return render_template("login.html", form=form), 403
            flash(_("Wrong username or password."), "error")
            return render_template("login.html", form=form), 401
        token = SessionService(session).start(
            user, ip=request.remote_addr, user_agent=request.user_agent.string
        )
        login_user(user)
        flask_session[SESSION_TOKEN] = token
        session.flush()
        if user.must_change_password:
            flash(_("Your password was reset. Choose a new password to go on."), "info")
            return redirect(url_for("auth.password"))
        return redirect(_safe_next(request.args.get("next")) or home_for(user.roles))
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
@allow(*Role)
def logout() -> ResponseReturnValue:
    """Sign out (POST with CSRF token, so a link cannot log anyone out).

    The sign-in session ends on the server, so a copy of the cookie opens nothing either.
    """
    session = db_session()
    SessionService(session).end(flask_session.pop(SESSION_TOKEN, None), ip=request.remote_addr)
    session.flush()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account")
@allow(*Role)
def account() -> ResponseReturnValue:
    """Show who is signed in, with which roles, and the open sign-in sessions."""
    sessions = SessionService(db_session()).open_sessions(current_user)
    return render_template("account.html", sessions=sessions)


class PasswordForm(FlaskForm):
    current = PasswordField(
        lazy_gettext("Current password"), validators=[DataRequired(), Length(max=256)]
    )
    new = PasswordField(lazy_gettext("New password"), validators=[DataRequired(), Length(max=256)])
    repeat = PasswordField(
        lazy_gettext("New password again"), validators=[DataRequired(), Length(max=256)]
    )


@bp.route("/account/password", methods=["GET", "POST"])
@allow(*Role)
def password() -> ResponseReturnValue:
    """Change one's own password (the current one is required); other sessions end."""
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        if form.new.data != form.repeat.data:
            flash(_("The two new passwords differ."), "error")
            return render_template("account_password.html", form=form), 400
        session = db_session()
        try:
            ended = UserService(session).change_password(
                current_user,
                form.current.data or "",
                form.new.data or "",
                keep_session=flask_session.get(SESSION_TOKEN),
            )
        except MamError as exc:
            session.rollback()
            flash(exc.translated(_), "error")
            return render_template("account_password.html", form=form), exc.http_status
        flash(
            _("Password changed. Sessions signed out elsewhere: %(n)d.", n=ended),
            "info",
        )
        return redirect(url_for("auth.account"))
    if request.method == "POST":
        status = 400
    return render_template("account_password.html", form=form), status


@bp.route("/account/sessions/end", methods=["POST"])
@allow(*Role)
def end_sessions() -> ResponseReturnValue:
    """Sign out everywhere: end every session of the user, this one included."""
    session = db_session()
    SessionService(session).end_all(
        current_user, reason="signed_out_everywhere", actor=current_user
    )
    session.flush()
    flask_session.pop(SESSION_TOKEN, None)
    logout_user()
    flash(_("You have been signed out everywhere."), "info")
    return redirect(url_for("auth.login"))
