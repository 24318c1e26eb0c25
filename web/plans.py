"""Focus (播放收看重点) and monthly plans (播放收看计划): edit, copy, print, export.

County staff set the focus and may act for any township of their county; a township
account plans for its own township. Views call :mod:`mam.services.focus` and
:mod:`mam.services.plans` and commit.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from mam import inputs
from mam.errors import InvalidInput, MamError
from mam.exports import csv_text, xlsx_document
from mam.services.focus import FocusService
from mam.services.network import NetworkService
from mam.services.plan_export import CSV_COLUMNS, PlanLine, csv_rows, plan_lines
from mam.services.plans import (
    CopyResult,
    EntryData,
    PlanService,
    month_start,
    parse_month,
    previous_month,
)
from mam.services.supply import parse_film, supplied_films
from storage import content_disposition
from web.auth import allow
from web.extensions import db_session
from web.network_common import (
    KIND_LABELS,
    MAINTAINERS,
    NETWORK,
    OUTCOME_LABELS,
    counties,
    county_for_page,
    county_url,
    parse_day,
    parse_time,
    refused,
    saved,
    scope,
)
from web.screenings import report_service

bp = Blueprint("plans", __name__, url_prefix="/network")


def _plans() -> PlanService:
    return PlanService(db_session(), current_user)


# -- focus -------------------------------------------------------------------------------


@bp.route("/focus")
@allow(*NETWORK)
def focus() -> ResponseReturnValue:
    """List the county's focus periods; county staff set new ones."""
    if current_user.has_role(*MAINTAINERS):
        county = county_for_page()
    else:
        county = scope().township(int(current_user.township_id or 0)).county
    manage = scope().may_manage_county(county.id)
    return render_template(
        "plans/focus.html",
        county=county,
        counties=counties(),
        manage=manage,
        focuses=FocusService(db_session(), current_user).for_county(county.id),
        films=supplied_films(db_session(), county.id) if manage else [],
        today=date.today(),
    )


@bp.route("/focus", methods=["POST"])
@allow(*MAINTAINERS)
def save_focus() -> ResponseReturnValue:
    """Set a focus for a period."""
    county = county_for_page()
    back = county_url("plans.focus", county.id)
    try:
        FocusService(db_session(), current_user).save(
            county.id,
            title=request.form.get("title", ""),
            themes=request.form.get("themes", ""),
            starts_on=parse_day(request.form.get("starts_on"), "starts_on"),
            ends_on=parse_day(request.form.get("ends_on"), "ends_on"),
            films=[parse_film(v) for v in request.form.getlist("film")],
        )
    except MamError as exc:
        return refused(exc, back)
    return saved(back, _("Focus saved."))


@bp.route("/focus/<int:focus_id>/delete", methods=["POST"])
@allow(*MAINTAINERS)
def delete_focus(focus_id: int) -> ResponseReturnValue:
    """Remove a focus."""
    service = FocusService(db_session(), current_user)
    row = service.get(focus_id)
    back = county_url("plans.focus", row.county_id)
    try:
        service.delete(row)
    except MamError as exc:
        return refused(exc, back)
    return saved(back, _("Focus removed."))


# -- plans -------------------------------------------------------------------------------


def _month_arg() -> date:
    value = request.args.get("month")
    if not value:
        return month_start(date.today())
    try:
        return parse_month(value)
    except InvalidInput:
        return month_start(date.today())


@bp.route("/townships/<int:township_id>/plan")
@allow(*NETWORK)
def plan_month(township_id: int) -> ResponseReturnValue:
    """Show a township's plan of a month (?month=2026-12), with the county's focus."""
    township = scope().township(township_id)
    month = _month_arg()
    plans = _plans()
    plan = plans.find(township, month)
    session = db_session()
    lines = plan_lines(session, report_service(), plan) if plan else []
    next_month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return render_template(
        "plans/plan.html",
        township=township,
        month=month,
        previous=previous_month(month),
        next_month=next_month,
        plan=plan,
        lines=lines,
        points=NetworkService(session, current_user).points(township, active_only=True),
        films=supplied_films(session, township.county_id),
        focuses=FocusService(session, current_user).current(township.county_id, month),
        has_previous=plans.find(township, previous_month(month)) is not None,
    )


@bp.route("/townships/<int:township_id>/plan", methods=["POST"])
@allow(*NETWORK)
def add_entry(township_id: int) -> ResponseReturnValue:
    """Plan a film at a point on a day (the month's plan is started if needed)."""
    township = scope().township(township_id)
    form = request.form
    month = parse_month(form.get("month")) if form.get("month") else month_start(date.today())
    back = url_for(".plan_month", township_id=township_id, month=month.strftime("%Y-%m"))
    try:
        release_id, episode_id = parse_film(form.get("film"))
        data = EntryData(
            release_id=release_id,
            episode_id=episode_id,
            point_id=inputs.parse_id(form.get("point_id"), "point"),
            planned_on=parse_day(form.get("planned_on"), "planned_on"),
            planned_time=parse_time(form.get("planned_time")),
            note=form.get("note", ""),
        )
        plans = _plans()
        plans.add_entry(plans.open(township, month), data)
    except MamError as exc:
        return refused(exc, back)
    return saved(back, _("Added to the plan."))


def _plan_url(plan_id: int) -> str:
    plan = _plans().get(plan_id)
    return url_for(".plan_month", township_id=plan.township_id, month=plan.month.strftime("%Y-%m"))


@bp.route("/plans/<int:plan_id>/copy", methods=["POST"])
@allow(*NETWORK)
def copy_previous(plan_id: int) -> ResponseReturnValue:
    """Add last month's entries to this plan."""
    back = _plan_url(plan_id)
    try:
        result = _plans().copy_previous(_plans().get(plan_id))
    except MamError as exc:
        return refused(exc, back)
    return _copied(back, result)


@bp.route("/townships/<int:township_id>/plan/copy", methods=["POST"])
@allow(*NETWORK)
def start_from_previous(township_id: int) -> ResponseReturnValue:
    """Start a month's plan from last month's."""
    township = scope().township(township_id)
    month = parse_month(request.form.get("month")) if request.form.get("month") else None
    if month is None:
        month = month_start(date.today())
    back = url_for(".plan_month", township_id=township_id, month=month.strftime("%Y-%m"))
    plans = _plans()
    try:
        result = plans.copy_previous(plans.open(township, month))
    except MamError as exc:
        return refused(exc, back)
    return _copied(back, result)


def _copied(back: str, result: CopyResult) -> ResponseReturnValue:
    return saved(
        back,
        _(
            "Copied %(copied)s entries; skipped %(skipped)s.",
            copied=result.copied,
            skipped=result.skipped,
        ),
    )


@bp.route("/plans/<int:plan_id>/notes", methods=["POST"])
@allow(*NETWORK)
def plan_notes(plan_id: int) -> ResponseReturnValue:
    """Change a plan's notes."""
    back = _plan_url(plan_id)
    try:
        _plans().set_notes(_plans().get(plan_id), request.form.get("notes", ""))
    except MamError as exc:
        return refused(exc, back)
    return saved(back, _("Saved."))


@bp.route("/entries/<int:entry_id>/delete", methods=["POST"])
@allow(*NETWORK)
def remove_entry(entry_id: int) -> ResponseReturnValue:
    """Take an entry out of its plan."""
    plans = _plans()
    entry = plans.entry(entry_id)
    back = _plan_url(entry.plan_id)
    try:
        plans.remove_entry(entry)
    except MamError as exc:
        return refused(exc, back)
    return saved(back, _("Removed from the plan."))


@bp.route("/plans/<int:plan_id>/print")
@allow(*NETWORK)
def print_plan(plan_id: int) -> ResponseReturnValue:
    """Show the plan as a clean printable page."""
    plan = _plans().get(plan_id)
    return render_template(
        "plans/print.html",
        plan=plan,
        lines=plan_lines(db_session(), report_service(), plan),
        printed=date.today(),
    )


def _people_rows(lines: list[PlanLine]) -> list[list[object]]:
    return [
        [
            line.planned_on.isoformat(),
            line.planned_time.strftime("%H:%M") if line.planned_time else "",
            line.point,
            str(KIND_LABELS.get(line.point_kind, line.point_kind)),  # type: ignore[call-overload]
            line.programme,
            line.title,
            line.release,
            line.note,
            str(OUTCOME_LABELS[line.outcome]) if line.outcome else "",
            line.report.viewers if line.report else "",
        ]
        for line in lines
    ]


@bp.route("/plans/<int:plan_id>/export.<fmt>")
@allow(*NETWORK)
def export_plan(plan_id: int, fmt: str) -> ResponseReturnValue:
    """Export the plan: XLSX with Chinese headers for people, CSV with stable keys for programs."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    plan = _plans().get(plan_id)
    lines = plan_lines(db_session(), report_service(), plan)
    stem = f"{plan.township.name}-{plan.month.strftime('%Y-%m')}-plan"
    if fmt == "csv":
        body = csv_text(CSV_COLUMNS, csv_rows(plan, lines)).encode("utf-8")
        response = Response(body, mimetype="text/csv")
        response.headers["Content-Disposition"] = content_disposition(f"{stem}.csv")
        return response
    header = [
        _("Date"), _("Time"), _("Playback point"), _("Kind"), _("Programme"), _("Film"),
        _("Release set"), _("Note"), _("Outcome"), _("Viewers"),
    ]  # fmt: skip
    title = _("Playback plan %(month)s", month=plan.month.strftime("%Y-%m"))
    body = xlsx_document(title, header, _people_rows(lines))
    response = Response(
        body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = content_disposition(f"{stem}.xlsx")
    return response
