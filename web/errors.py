"""Map domain errors and HTTP errors to pages or JSON, in the user's language.

A page names what went wrong and links only to a page its reader may open (a county
account's way back is its county page, staff go to the catalogue, a signed-out visitor
to the sign-in page). JSON carries the message's stable ``code`` and ``params`` besides
the ``message`` in the request's language.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, make_response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from mam.errors import MamError
from mam.models import Role
from web.auth import STAFF
from web.messages import error_body
from web.transactions import view_failed

TITLES = {
    400: lazy_gettext("The request cannot be carried out"),
    401: lazy_gettext("Please sign in"),
    403: lazy_gettext("No permission"),
    404: lazy_gettext("Not found"),
    405: lazy_gettext("Not possible here"),
    409: lazy_gettext("Changed meanwhile"),
    410: lazy_gettext("No longer available"),
    413: lazy_gettext("Too large"),
    422: lazy_gettext("The file cannot be used"),
    423: lazy_gettext("Busy"),
    429: lazy_gettext("Too many attempts"),
    500: lazy_gettext("Something went wrong"),
    503: lazy_gettext("Temporarily unavailable"),
    507: lazy_gettext("No room on the server"),
}


def way_back() -> tuple[str, str]:
    """Return the link (URL, text) back to a page the current user may open."""
    if not current_user.is_authenticated:
        return url_for("auth.login"), _("Sign in")
    roles = current_user.roles
    if roles & set(STAFF):
        return url_for("catalogue.index"), _("Back to the catalogue")
    if Role.COUNTY in roles:
        return url_for("county.index"), _("Back to my county's release sets")
    return url_for("auth.account"), _("Back to my account")


def _wants_json() -> bool:
    return (
        request.path.startswith("/api/")
        or request.accept_mimetypes.best == "application/json"
        or request.headers.get("Authorization", "").startswith("Bearer ")  # scripts
    )


def _render(
    status: int, message: str, body: dict[str, Any] | None = None, detail: str | None = None
) -> ResponseReturnValue:
    if _wants_json():
        return jsonify(body or {"error": message, "status": status, "message": message}), status
    href, text = way_back()
    return render_template(
        "error.html",
        status=status,
        title=TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400]),
        message=message,
        detail=detail,
        back_href=href,
        back_text=text,
    ), status


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(MamError)
    def domain_error(exc: MamError) -> ResponseReturnValue:
        view_failed()  # a refusal undoes whatever the view had done
        body = error_body(exc)
        return _render(exc.http_status, body["message"], body, exc.detail)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> ResponseReturnValue:
        view_failed()
        return _render(
            400,
            _("The form expired or was not sent from this site. Reload the page and try again."),
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        view_failed()
        messages = {
            400: _("The request is not valid."),
            403: _("You do not have permission to do this."),
            404: _("Not found."),
            405: _("This action is not allowed here."),
            413: _("The request is too large."),
        }
        code = exc.code or 500
        if code in (301, 302, 304, 308, 416):  # keep their headers (Location, Content-Range)
            return exc
        response = make_response(_render(code, messages.get(code) or _("Something went wrong.")))
        allow = dict(exc.get_headers()).get("Allow")
        if allow:  # a 405 says which methods the URL takes
            response.headers["Allow"] = allow
        return response
