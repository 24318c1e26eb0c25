"""The playback network as data: townships, points, organisations, accounts, import, build-out.

County staff maintain their own county (admins pick a county); township accounts land on
their own township's page. Views call :mod:`mam.services.network` and commit.
"""

from __future__ import annotations

import hashlib
import re

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from mam.errors import InvalidInput, MamError
from mam.models import Role
from mam.models.network import Organisation
from mam.services import buildout
from mam.services.network import NetworkService, PointData
from mam.services.network_import import NetworkImport
from mam.uow import after_commit
from storage.base import StorageError
from web.auth import allow
from web.extensions import db_session, storage
from web.network_common import (
    MAINTAINERS,
    NETWORK,
    counties,
    county_for_page,
    county_url,
    refused,
    saved,
    scope,
)

bp = Blueprint("network", __name__, url_prefix="/network")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _service() -> NetworkService:
    return NetworkService(db_session(), current_user)


def _form() -> dict[str, object]:
    return dict(request.form.items())


@bp.route("/")
@allow(*NETWORK)
def index() -> ResponseReturnValue:
    """Show the county's townships and build-out (township accounts: their township)."""
    if not current_user.has_role(*MAINTAINERS):
        if current_user.township_id is None:
            abort(403)
        return redirect(url_for("plans.plan_month", township_id=current_user.township_id))
    county = county_for_page()
    session = db_session()
    return render_template(
        "network/index.html",
        county=county,
        counties=counties(),
        townships=_service().townships(county.id),
        by_township={r.id: r for r in buildout.by_township(session, county.id)},
        total=buildout.by_county(session, [county.id])[0],
    )


@bp.route("/townships", methods=["POST"])
@allow(*MAINTAINERS)
def add_township() -> ResponseReturnValue:
    """Add a township station to the county."""
    county = county_for_page()
    back = county_url("network.index", county.id)
    try:
        _service().add_township(
            county.id,
            request.form.get("name", ""),
            contact_name=request.form.get("contact_name", ""),
            contact_phone=request.form.get("contact_phone", ""),
        )
    except MamError as exc:
        return refused(exc, back)
    return saved(back, _("Township added."))


@bp.route("/townships/<int:township_id>")
@allow(*NETWORK)
def township(township_id: int) -> ResponseReturnValue:
    """Show a township: its points, the organisations that should have one, its accounts."""
    service = _service()
    row = scope().township(township_id)
    manage = scope().may_manage_county(row.county_id)
    return render_template(
        "network/township.html",
        township=row,
        manage=manage,
        points=service.points(row),
        organisations=service.organisations(row),
        accounts=service.township_accounts(row) if manage else [],
    )


@bp.route("/townships/<int:township_id>/edit", methods=["POST"])
@allow(*MAINTAINERS)
def edit_township(township_id: int) -> ResponseReturnValue:
    """Rename a township or change its contact."""
    row = scope().township(township_id, manage=True)
    back = url_for(".township", township_id=township_id)
    try:
        _service().update_township(
            row,
            name=request.form.get("name", ""),
            contact_name=request.form.get("contact_name", ""),
            contact_phone=request.form.get("contact_phone", ""),
        )
    except MamError as exc:
        return refused(exc, back)
    return saved(back, _("Saved."))


@bp.route("/townships/<int:township_id>/active", methods=["POST"])
@allow(*MAINTAINERS)
def township_active(township_id: int) -> ResponseReturnValue:
    """Deactivate or reactivate a township."""
    row = scope().township(township_id, manage=True)
    _service().set_township_active(row, request.form.get("active") == "1")
    return saved(url_for(".township", township_id=township_id), _("Saved."))


@bp.route("/townships/<int:township_id>/delete", methods=["POST"])
@allow(*MAINTAINERS)
def delete_township(township_id: int) -> ResponseReturnValue:
    """Delete a township nothing refers to."""
    row = scope().township(township_id, manage=True)
    back = county_url("network.index", row.county_id)
    try:
        _service().delete_township(row)
    except MamError as exc:
        return refused(exc, url_for(".township", township_id=township_id))
    return saved(back, _("Township deleted."))


@bp.route("/townships/<int:township_id>/points", methods=["POST"])
@allow(*MAINTAINERS)
def add_point(township_id: int) -> ResponseReturnValue:
    """Add a playback point."""
    row = scope().township(township_id, manage=True)
    back = url_for(".township", township_id=township_id)
    try:
        _service().add_point(row, PointData.parse(_form()))
    except MamError as exc:
        return refused(exc, back)
    return saved(back, _("Playback point added."))


@bp.route("/points/<int:point_id>/edit", methods=["GET", "POST"])
@allow(*MAINTAINERS)
def edit_point(point_id: int) -> ResponseReturnValue:
    """Change a playback point."""
    point = scope().point(point_id, manage=True)
    if request.method != "POST":
        return render_template(
            "network/point_edit.html",
            point=point,
            organisations=_service().organisations(point.township),
        )
    back = url_for(".edit_point", point_id=point_id)
    try:
        _service().update_point(point, PointData.parse(_form()))
    except MamError as exc:
        return refused(exc, back)
    return saved(url_for(".township", township_id=point.township_id), _("Saved."))


@bp.route("/points/<int:point_id>/active", methods=["POST"])
@allow(*MAINTAINERS)
def point_active(point_id: int) -> ResponseReturnValue:
    """Deactivate or reactivate a playback point."""
    point = scope().point(point_id, manage=True)
    _service().set_point_active(point, request.form.get("active") == "1")
    return saved(url_for(".township", township_id=point.township_id), _("Saved."))


@bp.route("/points/<int:point_id>/delete", methods=["POST"])
@allow(*MAINTAINERS)
def delete_point(point_id: int) -> ResponseReturnValue:
    """Delete a point nothing refers to."""
    point = scope().point(point_id, manage=True)
    back = url_for(".township", township_id=point.township_id)
    try:
        _service().delete_point(point)
    except MamError as exc:
        return refused(exc, back)
    return saved(back, _("Playback point deleted."))


@bp.route("/townships/<int:township_id>/organisations", methods=["POST"])
@allow(*MAINTAINERS)
def add_organisation(township_id: int) -> ResponseReturnValue:
    """Record an organisation that should have a playback point."""
    row = scope().township(township_id, manage=True)
    back = url_for(".township", township_id=township_id)
    try:
        _service().add_organisation(row, request.form.get("name", ""), request.form.get("kind", ""))
    except MamError as exc:
        return refused(exc, back)
    return saved(back, _("Organisation added."))


@bp.route("/organisations/<int:organisation_id>/active", methods=["POST"])
@allow(*MAINTAINERS)
def organisation_active(organisation_id: int) -> ResponseReturnValue:
    """Take an organisation out of the build-out count, or back in."""
    org = db_session().get(Organisation, organisation_id)
    if org is None:
        abort(404)
    scope().township(org.township_id, manage=True)
    _service().set_organisation_active(org, request.form.get("active") == "1")
    return saved(url_for(".township", township_id=org.township_id), _("Saved."))


@bp.route("/townships/<int:township_id>/accounts", methods=["POST"])
@allow(*MAINTAINERS)
def add_account(township_id: int) -> ResponseReturnValue:
    """Create a sign-in for the township station (it must change the password first)."""
    row = scope().township(township_id, manage=True)
    back = url_for(".township", township_id=township_id)
    try:
        _service().add_township_account(
            row,
            username=request.form.get("username", ""),
            password=request.form.get("password", ""),
            display_name=request.form.get("display_name", ""),
        )
    except MamError as exc:
        return refused(exc, back)
    return saved(back, _("Account created. The township changes the password at first sign-in."))


@bp.route("/buildout")
@allow(*MAINTAINERS)
def buildout_page() -> ResponseReturnValue:
    """Show the build-out rate per county (admins: every county) and kind."""
    session = db_session()
    ids = None if current_user.has_role(Role.ADMIN) else [county_for_page().id]
    return render_template("network/buildout.html", rows=buildout.by_county(session, ids))


@bp.route("/import", methods=["GET", "POST"])
@allow(*MAINTAINERS)
def import_sheet() -> ResponseReturnValue:
    """Upload a spreadsheet and show the dry run; nothing is written yet."""
    county = county_for_page()
    if request.method != "POST":
        return render_template("network/import.html", county=county, counties=counties())
    upload = request.files.get("sheet")
    back = county_url("network.import_sheet", county.id)
    if upload is None or not upload.filename:
        return refused(InvalidInput(_("Choose a CSV or XLSX file.")), back)
    data = upload.read()
    name = upload.filename
    try:
        check = NetworkImport(db_session(), current_user, county.id).check(data, name)
    except MamError as exc:
        return refused(exc, back)
    digest = hashlib.sha256(data).hexdigest()
    if not check.errors:
        storage().put_bytes(_sheet_key(county.id, digest), data)
    db_session().rollback()
    return render_template(
        "network/import.html",
        county=county,
        counties=counties(),
        check=check,
        digest=digest,
        filename=name,
    )


def _sheet_key(county_id: int, digest: str) -> str:
    return f"imports/network/{county_id}/{digest}"


@bp.route("/import/confirm", methods=["POST"])
@allow(*MAINTAINERS)
def import_confirm() -> ResponseReturnValue:
    """Import the sheet checked a moment ago (checked again: the network may have changed)."""
    county = county_for_page()
    back = county_url("network.import_sheet", county.id)
    digest = request.form.get("digest", "")
    if not SHA256.match(digest):
        return refused(InvalidInput(_("Upload the sheet again.")), back)
    key = _sheet_key(county.id, digest)
    try:
        with storage().open(key) as f:
            data = f.read()
    except StorageError:
        return refused(InvalidInput(_("Upload the sheet again.")), back)
    importer = NetworkImport(db_session(), current_user, county.id)
    try:
        counts = importer.apply(importer.check(data, request.form.get("filename", "sheet.csv")))
    except MamError as exc:
        return refused(exc, back)
    session = db_session()
    after_commit(session, lambda: storage().delete(key))  # the sheet goes once the rows are in
    return saved(
        county_url("network.index", county.id),
        _("Imported: %(n)s rows.", n=sum(counts.values())),
    )
