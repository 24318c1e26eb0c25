"""Flask extensions and the per-request database session."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel, lazy_gettext
from flask_login import LoginManager, current_user
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from mam.inputs import lenient_id
from mam.models import User
from mam.runtime import Runtime
from mam.services.sessions import SessionService
from storage import Storage
from web import transactions

LOCALES = ("zh_CN", "en")
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()


def runtime() -> Runtime:
    """Return the app's runtime (settings, database, storage)."""
    rt: Runtime = current_app.extensions["mam"]
    return rt


def db_session() -> Session:
    """Return this request's unit of work (web.transactions), opening it on first use."""
    if "db_session" not in g:
        g.db_session = transactions.open_session()
    s: Session = g.db_session
    return s


def storage() -> Storage:
    """Return the configured storage backend."""
    return runtime().storage


def task_queue() -> Any:
    """Return the Celery-backed task queue (built once per app)."""
    queue = current_app.extensions.get("mam_queue")
    if queue is None:
        from workers.celery_app import make_celery  # noqa: PLC0415
        from workers.dispatch import CeleryQueue  # noqa: PLC0415

        queue = CeleryQueue(make_celery(runtime().settings))
        current_app.extensions["mam_queue"] = queue
    return queue


def select_locale() -> str:
    """Pick the UI language: explicit choice, then the user's setting, then zh_CN."""
    chosen = session.get("locale")
    if chosen in LOCALES:
        return str(chosen)
    user = current_user if has_request_context() else None
    if user is not None and user.is_authenticated and user.locale in LOCALES:
        return str(user.locale)  # chosen before, or a script's token of that user
    best = request.accept_languages.best_match(["zh", "en"]) if request else None
    return "en" if best == "en" else str(current_app.config["BABEL_DEFAULT_LOCALE"])


# The flask session key of the sign-in session's token (see mam.services.sessions).
SESSION_TOKEN = "_mam_sid"  # noqa: S105 - a key name, not a secret


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """Return the signed-in user if the cookie's sign-in session is still open on the server."""
    ident = lenient_id(user_id)
    if ident is None:
        return None
    s = db_session()
    user = s.get(User, ident)
    if user is None or not user.active:
        return None
    if SessionService(s).find(user.id, session.get(SESSION_TOKEN)) is None:
        return None  # signed out, password changed, or signed out everywhere
    return user


def init_extensions(app: Flask) -> None:
    """Attach Babel, Flask-Login, CSRF protection and session teardown to ``app``."""
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    transactions.init_app(app)
