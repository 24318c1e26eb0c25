"""County staff and their learners: accounts one by one or from a spreadsheet, study hours.

A generated password is shown once, on the page that answers the form, never stored in
the cookie or the log; the learner must replace it at the first sign-in.
"""

from __future__ import annotations

import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from mam.audit import AuditAction, ObjectType, record
from mam.errors import MamError
from mam.exports import csv_cell, csv_text
from mam.i18n import render
from mam.models import Role
from mam.models.learning import Learner
from mam.services.learners import LearnerService, SheetRow, read_sheet
from mam.services.study_reports import Month, StudyReports, export_rows, point_study
from web.auth import allow
from web.extensions import db_session

bp = Blueprint("learners", __name__, url_prefix="/county/learners")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _county_id() -> int:
    if current_user.county_id is None:
        abort(403)
    return int(current_user.county_id)


def _month() -> Month | None:
    text = request.args.get("month", "")
    if not text:
        return None
    try:
        return Month.parse(text)
    except ValueError:
        abort(400)


def _page(status: int = 200, **extra: object) -> ResponseReturnValue:
    county_id = _county_id()
    month = _month()
    session = db_session()
    rows = StudyReports(session).learners(county_id, month)
    context = {
        "rows": rows,
        "month": month,
        "created": [],
        "report": None,
        "points": LearnerService(session).points(county_id),
        "by_point": point_study(session, county_id, month),
        **extra,
    }
    response = Response(render_template("county/learners.html", **context), status=status)
    if extra.get("created"):  # passwords shown once: no copy in any cache
        response.headers["Cache-Control"] = "no-store"
    return response


def _point_id(value: str | None) -> int | None:
    """Read the chosen playback point (empty: none); not a number is a bad request."""
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        abort(400)
    return int(value)


def _problems(row: SheetRow) -> list[str]:
    return [render(template, params, _) for template, params in row.problems]


@bp.route("/")
@allow(Role.COUNTY)
def index() -> ResponseReturnValue:
    """List the county's learners with their study hours (all time or one month)."""
    return _page()


@bp.route("/", methods=["POST"])
@allow(Role.COUNTY)
def create() -> ResponseReturnValue:
    """Create one learner account (single-account form)."""
    session = db_session()
    form = request.form
    try:
        made = LearnerService(session).create(
            _county_id(),
            form.get("name", ""),
            form.get("phone", ""),
            form.get("password") or None,
            current_user,
            _point_id(form.get("point")),
        )
    except MamError as exc:
        return _refused(session, exc)
    session.flush()
    flash(_("Learner account created."), "info")
    return _page(created=[made])


def _refused(session: Session, exc: MamError) -> ResponseReturnValue:
    """Undo the request's work and show the page again with the reason."""
    session.rollback()
    flash(exc.translated(_), "error")
    return _page(exc.http_status)


@bp.route("/import", methods=["POST"])
@allow(Role.COUNTY)
def import_sheet() -> ResponseReturnValue:
    """Check a spreadsheet of learners (dry run) or create every account in it."""
    upload = request.files.get("sheet")
    if upload is None or not upload.filename:
        flash(_("Choose a spreadsheet (CSV or XLSX)."), "error")
        return _page(400)
    session = db_session()
    service = LearnerService(session)
    try:
        rows = service.check(read_sheet(upload.read(), upload.filename), _county_id())
        if request.form.get("dry_run") or any(r.problems for r in rows):
            report = [(r, _problems(r)) for r in rows]
            return _page(200 if request.form.get("dry_run") else 400, report=report)
        created = service.import_rows(_county_id(), rows, current_user)
    except MamError as exc:
        return _refused(session, exc)
    session.flush()
    flash(_("%(n)d learner accounts created.", n=len(created)), "info")
    return _page(created=created)


@bp.route("/<int:learner_id>/password", methods=["POST"])
@allow(Role.COUNTY)
def reset_password(learner_id: int) -> ResponseReturnValue:
    """Give a learner who forgot their password a new one (shown once, changed at sign-in)."""
    session = db_session()
    try:
        made = LearnerService(session).reset_password(learner_id, current_user)
    except MamError as exc:
        return _refused(session, exc)
    session.flush()
    flash(_("New password made; the learner must change it at the next sign-in."), "info")
    return _page(created=[made])


def _edit_page(learner: Learner, status: int = 200) -> ResponseReturnValue:
    points = LearnerService(db_session()).points(learner.county_id)
    body = render_template("county/learner_edit.html", learner=learner, points=points)
    return Response(body, status=status)


@bp.route("/<int:learner_id>")
@allow(Role.COUNTY, Role.ADMIN)
def edit(learner_id: int) -> ResponseReturnValue:
    """Show a learner's account: name, phone, playback point, whether it may sign in."""
    try:
        learner = LearnerService(db_session()).get(learner_id, current_user)
    except MamError:
        abort(404)
    return _edit_page(learner)


@bp.route("/<int:learner_id>", methods=["POST"])
@allow(Role.COUNTY, Role.ADMIN)
def update(learner_id: int) -> ResponseReturnValue:
    """Change a learner's name, phone number and playback point."""
    session = db_session()
    service = LearnerService(session)
    try:
        learner = service.get(learner_id, current_user)
    except MamError:
        abort(404)
    form = request.form
    try:
        service.update(
            learner_id,
            current_user,
            name=form.get("name", ""),
            phone=form.get("phone", ""),
            point_id=_point_id(form.get("point")),
        )
    except MamError as exc:
        session.rollback()
        flash(exc.translated(_), "error")
        return _edit_page(service.get(learner_id, current_user), exc.http_status)
    session.flush()
    flash(_("Learner saved."), "info")
    return redirect(url_for("learners.edit", learner_id=learner.id))


@bp.route("/<int:learner_id>/active", methods=["POST"])
@allow(Role.COUNTY, Role.ADMIN)
def set_active(learner_id: int) -> ResponseReturnValue:
    """Deactivate a learner (no sign-in, sessions end) or reactivate them."""
    session = db_session()
    active = request.form.get("active") == "1"
    try:
        LearnerService(session).set_active(learner_id, current_user, active=active)
    except MamError:
        abort(404)
    session.flush()
    flash(_("Learner reactivated.") if active else _("Learner deactivated."), "info")
    return redirect(url_for("learners.edit", learner_id=learner_id))


@bp.route("/export.<fmt>")
@allow(Role.COUNTY)
def export(fmt: str) -> ResponseReturnValue:
    """Export learners' study hours: XLSX (Chinese headings) or CSV (for programs)."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    county_id, month = _county_id(), _month()
    session = db_session()
    rows = export_rows(StudyReports(session).learners(county_id, month))
    record(
        session, AuditAction.STUDY_EXPORTED, current_user, ObjectType.COUNTY, county_id,
        details={"format": fmt, "month": str(month or "")},
    )  # fmt: skip
    name = f"study-{month or 'all'}.{fmt}"
    if fmt == "csv":
        body = csv_text(["name", "phone", "hours", "completions"], rows)
        return _download(body.encode("utf-8"), "text/csv; charset=utf-8", name)
    from openpyxl import Workbook  # noqa: PLC0415

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Study hours"))
    sheet.append([_("Name"), _("Phone number"), _("Study hours"), _("Completed films")])
    for row in rows:
        sheet.append([csv_cell(v) for v in row])
    buf = io.BytesIO()
    book.save(buf)
    return _download(buf.getvalue(), XLSX, name)


def _download(body: bytes, mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
