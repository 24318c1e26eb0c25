"""Station logos: an admin page for the counties' logos, a release set's own logo.

Thin: read the upload, call ``mam.services.branding``, flash the outcome (a refused
file is named and explained, translated), go back to the page.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from mam.errors import MamError
from mam.models import County, Role
from mam.models.release import ReleaseSet
from mam.services.branding import MAX_BYTES, BrandingService
from web.auth import allow
from web.extensions import db_session, storage
from web.review import rule_message

bp = Blueprint("branding", __name__, url_prefix="/branding")
PUBLISHERS = (Role.PUBLISHER, Role.ADMIN)


def _service() -> BrandingService:
    return BrandingService(db_session(), storage())


def _upload() -> tuple[bytes, str] | None:
    """Return the uploaded logo (at most one byte beyond the limit is read), or None."""
    file = request.files.get("logo")
    if file is None or not file.filename:
        return None
    return file.stream.read(MAX_BYTES + 1), file.filename


def _apply(set_logo: Callable[[bytes, str], object], clear_logo: Callable[[], None]) -> None:
    """Set the uploaded logo or clear it, flashing what happened or why not."""
    try:
        if request.form.get("clear"):
            clear_logo()
            flash(_("Logo removed."), "info")
        elif (upload := _upload()) is None:
            flash(_("Choose a PNG file with transparency."), "error")
        else:
            set_logo(*upload)
            flash(_("Logo saved."), "info")
    except MamError as exc:
        db_session().rollback()
        flash(rule_message(exc), "error")


@bp.route("/")
@allow(Role.ADMIN)
def index() -> ResponseReturnValue:
    """The counties and their logos."""
    counties = db_session().scalars(select(County).order_by(County.code)).all()
    return render_template("admin/branding.html", counties=counties, max_kb=MAX_BYTES // 1000)


@bp.route("/county/<int:county_id>", methods=["POST"])
@allow(Role.ADMIN)
def county_logo(county_id: int) -> ResponseReturnValue:
    county = db_session().get(County, county_id) or abort(404)
    service = _service()
    _apply(
        lambda data, name: service.set_county_logo(county, data, name, current_user),
        lambda: service.clear_county_logo(county, current_user),
    )
    return redirect(url_for(".index"))


@bp.route("/release/<int:release_id>", methods=["POST"])
@allow(*PUBLISHERS)
def release_logo(release_id: int) -> ResponseReturnValue:
    release = db_session().get(ReleaseSet, release_id) or abort(404)
    service = _service()
    _apply(
        lambda data, name: service.set_release_logo(release, data, name, current_user),
        lambda: service.clear_release_logo(release, current_user),
    )
    return redirect(url_for("releases.detail", release_id=release_id))


@bp.route("/county/<int:county_id>/logo.png")
@allow(Role.ADMIN)
def county_image(county_id: int) -> ResponseReturnValue:
    county = db_session().get(County, county_id)
    return _image(county.logo_key if county else None)


@bp.route("/release/<int:release_id>/logo.png")
@allow(*PUBLISHERS)
def release_image(release_id: int) -> ResponseReturnValue:
    release = db_session().get(ReleaseSet, release_id)
    return _image(release.logo_key if release else None)


def _image(key: str | None) -> ResponseReturnValue:
    if not key:
        abort(404)
    with storage().open(key) as stream:
        data = stream.read()
    response = Response(data, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
