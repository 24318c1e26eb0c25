"""Map domain errors and HTTP errors to pages or JSON, in the user's language."""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from mam.errors import MamError
from web.transactions import view_failed


def _render(status: int, message: str) -> ResponseReturnValue:
    if (
        request.path.startswith("/api/")
        or request.accept_mimetypes.best == "application/json"
        or request.headers.get("Authorization", "").startswith("Bearer ")  # scripts
    ):
        return jsonify(error=message, status=status), status
    return render_template("error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(MamError)
    def domain_error(exc: MamError) -> ResponseReturnValue:
        view_failed()  # a refusal undoes whatever the view had done
        return _render(exc.http_status, exc.translated(_))

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
            403: _("You do not have permission to do this."),
            404: _("Not found."),
            405: _("This action is not allowed here."),
            413: _("The request is too large."),
        }
        code = exc.code or 500
        if code in (301, 302, 304, 308, 416):  # keep their headers (Location, Content-Range)
            return exc
        response = make_response(_render(code, messages.get(code, exc.description or exc.name)))
        allow = dict(exc.get_headers()).get("Allow")
        if allow:  # a 405 says which methods the URL takes
            response.headers["Allow"] = allow
        return response
