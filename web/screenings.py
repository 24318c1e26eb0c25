"""Screening reports per film and point (phone-first pages) and circulation of copies (周转).

A township account reports against its plan entries: held / moved / not held, attendance
(split 党员/群众 where MAM_SCREENING_PARTY_SPLIT is on), a note and a photo. Photos are
served back through the app from either storage backend. Views commit.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from mam import inputs
from mam.errors import MamError
from mam.models.release import ScreeningOutcome
from mam.services.circulation import Circulation
from mam.services.network import NetworkService
from mam.services.plans import PlanService
from mam.services.screening_reports import Attendance, Photo, ReportData, ScreeningReports
from mam.services.supply import parse_film, supplied_films
from storage.base import StorageError
from web.auth import allow
from web.conditional import Representation, send_object
from web.extensions import db_session, runtime, storage
from web.network_common import NETWORK, parse_day, parse_time, refused, saved, scope

bp = Blueprint("screenings", __name__, url_prefix="/network")


def report_service() -> ScreeningReports:
    """Return the report service with this site's settings."""
    settings = runtime().settings
    return ScreeningReports(
        db_session(),
        current_user,
        storage(),
        party_split=settings.screening_party_split,
        photo_max_bytes=settings.screening_photo_max_bytes,
    )


def _report_data(point_id: int) -> ReportData:
    form = request.form
    outcome = inputs.parse_choice(form.get("outcome", "held"), "outcome", ScreeningOutcome)
    attendance = None
    if outcome != ScreeningOutcome.NOT_HELD:
        split = runtime().settings.screening_party_split
        attendance = Attendance.parse(dict(form.items()), split=split)
    chosen = inputs.lenient_id(form.get("point_id")) or point_id
    return ReportData(
        outcome=outcome,
        screened_on=parse_day(form.get("screened_on"), "screened_on"),
        point_id=chosen,
        attendance=attendance,
        screened_time=parse_time(form.get("screened_time")),
        reason=form.get("reason", ""),
        note=form.get("note", ""),
    )


def _photo() -> Photo | None:
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    return Photo(upload.read(), upload.filename)


@bp.route("/townships/<int:township_id>/report")
@allow(*NETWORK)
def report_list(township_id: int) -> ResponseReturnValue:
    """List the planned screenings still to report, and the latest reports (phone page)."""
    township = scope().township(township_id)
    service = report_service()
    session = db_session()
    return render_template(
        "screenings/list.html",
        township=township,
        due=service.unreported(township, date.today() + timedelta(days=1)),
        recent=service.recent(township, limit=30),
        films=supplied_films(session, township.county_id),
        points=NetworkService(session, current_user).points(township, active_only=True),
        today=date.today(),
        split=runtime().settings.screening_party_split,
    )


@bp.route("/entries/<int:entry_id>/report", methods=["GET", "POST"])
@allow(*NETWORK)
def report_entry(entry_id: int) -> ResponseReturnValue:
    """Report (or correct) a planned screening."""
    entry = PlanService(db_session(), current_user).entry(entry_id)
    service = report_service()
    township = entry.plan.township
    if request.method != "POST":
        return render_template(
            "screenings/report.html",
            entry=entry,
            township=township,
            report=service.for_entries([entry]).get(entry.id),
            points=NetworkService(db_session(), current_user).points(township, active_only=True),
            split=runtime().settings.screening_party_split,
        )
    back = url_for(".report_entry", entry_id=entry_id)
    try:
        service.report_entry(entry, _report_data(entry.point_id), _photo())
    except MamError as exc:
        return refused(exc, back)
    return saved(url_for(".report_list", township_id=township.id), _("Screening reported."))


@bp.route("/townships/<int:township_id>/screenings", methods=["POST"])
@allow(*NETWORK)
def report_unplanned(township_id: int) -> ResponseReturnValue:
    """Report a screening that was not in the plan."""
    township = scope().township(township_id)
    back = url_for(".report_list", township_id=township_id)
    try:
        film = parse_film(request.form.get("film"))
        point_id = inputs.parse_id(request.form.get("point_id"), "point")
        report_service().report_unplanned(township, film, _report_data(point_id), _photo())
    except MamError as exc:
        return refused(exc, back)
    return saved(back, _("Screening reported."))


@bp.route("/screenings/<int:screening_id>/photo")
@allow(*NETWORK)
def photo(screening_id: int) -> ResponseReturnValue:
    """Send a report's photo (from local storage or S3)."""
    row = report_service().get(screening_id)
    if not row.photo_key:
        abort(404)
    key, kind = row.photo_key, row.photo_type or "application/octet-stream"
    store = storage()
    try:
        size = store.size(key)
    except StorageError:  # the report's commit failed after the photo was written, or gone
        abort(404)
    rep = Representation(size=size, etag=f"screening-{row.id}-{size}")
    db_session().close()
    response = send_object(request, store, key, rep, mimetype=kind)
    response.headers["Cache-Control"] = "private, max-age=600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# -- circulation (周转) --------------------------------------------------------------------


@bp.route("/townships/<int:township_id>/copies")
@allow(*NETWORK)
def copies(township_id: int) -> ResponseReturnValue:
    """Show where the township's copies are and their hand-overs."""
    township = scope().township(township_id)
    session = db_session()
    releases = {f.release_id: f.release_name for f in supplied_films(session, township.county_id)}
    return render_template(
        "screenings/copies.html",
        township=township,
        copies=Circulation(session, current_user).copies(township),
        points=NetworkService(session, current_user).points(township, active_only=True),
        releases=releases,
        today=date.today(),
    )


@bp.route("/townships/<int:township_id>/copies", methods=["POST"])
@allow(*NETWORK)
def register_copy(township_id: int) -> ResponseReturnValue:
    """Register a USB stick or disc."""
    township = scope().township(township_id)
    back = url_for(".copies", township_id=township_id)
    try:
        Circulation(db_session(), current_user).register(
            township,
            label=request.form.get("label", ""),
            medium=request.form.get("medium", ""),
            release_id=inputs.parse_id(request.form.get("release_id"), "release"),
        )
    except MamError as exc:
        return refused(exc, back)
    return saved(back, _("Copy registered."))


@bp.route("/copies/<int:copy_id>/hand-on", methods=["POST"])
@allow(*NETWORK)
def hand_on(copy_id: int) -> ResponseReturnValue:
    """Record that a copy went to another point (or back to the station)."""
    service = Circulation(db_session(), current_user)
    copy = service.get(copy_id)
    back = url_for(".copies", township_id=copy.township_id)
    try:
        service.hand_on(
            copy,
            inputs.lenient_id(request.form.get("point_id")),
            moved_on=parse_day(request.form.get("moved_on"), "moved_on"),
            note=request.form.get("note", ""),
        )
    except MamError as exc:
        return refused(exc, back)
    return saved(back, _("Hand-over recorded."))


@bp.route("/copies/<int:copy_id>/retire", methods=["POST"])
@allow(*NETWORK)
def retire_copy(copy_id: int) -> ResponseReturnValue:
    """Mark a copy lost or worn out."""
    service = Circulation(db_session(), current_user)
    copy = service.get(copy_id)
    service.retire(copy)
    return saved(url_for(".copies", township_id=copy.township_id), _("Copy retired."))
