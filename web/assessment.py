"""Target assessment dashboards (目标考核): heatmap, trend lines, ranked scores, drill-down.

Admins and publishers see every county; a county account its county (townships, points); a
township account its township. Figures come from ``mam.services.assessment``; the charts
are server-rendered SVG (``web.charts``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from mam.errors import InvalidInput
from mam.i18n import N_
from mam.inputs import lenient_id
from mam.models import County, Role, utcnow
from mam.models.network import Township
from mam.models.release import Screening
from mam.services.assessment import (
    PAGE_SIZE,
    AssessmentService,
    GroupScore,
    Monthly,
    ScreeningFilter,
    collector_paused,
    parse_weights,
)
from mam.services.assessment_indicators import INDICATORS
from mam.services.assessment_sql import Grain, Period, Scope, add_months
from mam.services.study_reports import point_study
from web import assessment_export, charts
from web.auth import allow
from web.extensions import db_session, runtime

bp = Blueprint("assessment", __name__, url_prefix="/assessment")
READERS = (Role.ADMIN, Role.PUBLISHER, Role.COUNTY, Role.TOWNSHIP)
DEFAULT_MONTHS = 12


OUTCOMES = {"held": N_("Held"), "moved": N_("Moved"), "not_held": N_("Not held")}


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"outcome_label": lambda value: _(OUTCOMES.get(value, value))}


def _service() -> AssessmentService:
    settings = runtime().settings
    return AssessmentService(
        db_session(),
        weights=parse_weights(settings.assessment_weights),
        receipt_days=settings.assessment_receipt_days,
    )


def _period() -> Period:
    today = utcnow().date()
    last = request.args.get("end") or today.strftime("%Y-%m")
    default_first = add_months(today.replace(day=1), 1 - DEFAULT_MONTHS).strftime("%Y-%m")
    first = request.args.get("start") or default_first
    if len(first) != 7 or len(last) != 7:
        raise InvalidInput(N_("A month is written as YYYY-MM."))
    return Period.months(first, last)


def _scope() -> Scope:
    """Return what the signed-in user may see."""
    if current_user.has_role(Role.ADMIN, Role.PUBLISHER):
        return Scope()
    if current_user.has_role(Role.COUNTY) and current_user.county_id is not None:
        return Scope(county_id=int(current_user.county_id))
    if current_user.has_role(Role.TOWNSHIP) and current_user.township_id is not None:
        return Scope(township_id=int(current_user.township_id))
    abort(403)
    return Scope(county_id=-1)  # not reached: abort raises


def _period_args(period: Period) -> dict[str, Any]:
    return {
        "start": period.start.strftime("%Y-%m"),
        "end": add_months(period.end, -1).strftime("%Y-%m"),
    }


_GID, _MONTH = "__gid__", "__month__"  # placeholders of a heatmap cell's link


def _drill(period: Period, **where: Any) -> str:
    args = {k: v for k, v in where.items() if v is not None}
    return url_for("assessment.screenings", **args, **_period_args(period))


def _heatmap(
    rows: Sequence[tuple[int, str, str | None]], monthly: Monthly, period: Period, field: str
) -> charts.Heatmap:
    # one link and one translation for every cell (five years of 300 counties: 18,000 cells),
    # filled in per cell
    link = _drill(period, **{field: _GID, "month": _MONTH})
    empty = _("%(month)s: no plan, no screening")
    told = _(
        "%(month)s: %(done)s of %(planned)s planned held; %(held)s screenings, %(people)s attending"
    )

    by_month = {m: link.replace(_MONTH, m) for m in monthly.months}
    found = monthly.cells

    def cell(gid: int, month: str) -> tuple[float | None, str, str, str | None]:
        figures = found.get((gid, month))
        if figures is None:
            return None, "", empty % {"month": month}, None
        title = told % {
            "month": month,
            "done": figures.done,
            "planned": figures.planned,
            "held": figures.held,
            "people": figures.attendance,
        }
        href = by_month[month].replace(_GID, str(gid))
        return figures.fulfilment, str(figures.held), title, href

    return charts.heatmap(rows, monthly.months, cell)


def _trends(monthly: Monthly) -> tuple[charts.LineChart, charts.LineChart]:
    by_month = monthly.totals()
    totals = [by_month[m] for m in monthly.months]
    counts = charts.line_chart(
        monthly.months,
        [
            (_("Planned"), [t.planned for t in totals]),
            (_("Held as planned"), [t.done for t in totals]),
            (_("Screenings held"), [t.held for t in totals]),
        ],
    )
    people = charts.line_chart(monthly.months, [(_("Attendance"), [t.attendance for t in totals])])
    return counts, people


def _page(template: str, *, head: GroupScore | None, rows: list[GroupScore], **context: Any) -> str:
    return render_template(
        template,
        head=head,
        rows=rows,
        indicators=INDICATORS,
        weights=_service().weights,
        **context,
    )


# The dashboards build tens of thousands of small objects that all stay alive until the
# page is sent (a five-year all-county heatmap: 18,000 cells, 7 MB of SVG); the collector's
# passes over the growing heap made the slow tail (bench/assessment.py, rendered pages).
@bp.route("/")
@allow(*READERS)
@collector_paused()
def index() -> ResponseReturnValue:
    """Show the counties' heatmap, trends and ranking (county and township users: their own)."""
    scope = _scope()
    args: dict[str, Any] = request.args.to_dict()
    if scope.township_id is not None:
        return redirect(url_for("assessment.township", township_id=scope.township_id, **args))
    if scope.county_id is not None:
        return redirect(url_for("assessment.county", county_id=scope.county_id, **args))
    period = _period()
    service = _service()
    rows = service.scores(Grain.COUNTY, period, scope)
    monthly = service.monthly(Grain.COUNTY, period, scope)
    links = [
        (r.id, r.name, url_for("assessment.county", county_id=r.id, **_period_args(period)))
        for r in sorted(rows, key=lambda r: r.name)
    ]
    counts, people = _trends(monthly)
    return _page(
        "assessment/index.html",
        head=None,
        rows=rows,
        period=period,
        heatmap=_heatmap(links, monthly, period, "county"),
        hrefs={gid: href for gid, _name, href in links},
        counts=counts,
        people=people,
        child="county",
        export_args={"grain": "county", **_period_args(period)},
    )


@bp.route("/county/<int:county_id>")
@allow(*READERS)
@collector_paused()
def county(county_id: int) -> ResponseReturnValue:
    """Show one county's score, how it was made, and its townships."""
    scope = _scope()
    place = db_session().get(County, county_id)
    if place is None or scope.township_id is not None or scope.county_id not in (None, county_id):
        abort(404)
    period = _period()
    return _group_page(
        place.name,
        period,
        (Grain.COUNTY, Grain.TOWNSHIP),
        Scope(county_id=county_id),
        lambda r: url_for("assessment.township", township_id=r.id, **_period_args(period)),
        drill={"county": county_id},
    )


def _group_page(
    name: str,
    period: Period,
    grains: tuple[Grain, Grain],
    inside: Scope,
    link: Callable[[GroupScore], str],
    *,
    drill: dict[str, int],
    **extra: Any,
) -> str:
    """Render a county's or township's page: its score, its parts ranked, months, sets."""
    grain, child = grains
    service = _service()
    head = service.scores(grain, period, inside)[0]
    rows = service.scores(child, period, inside)
    links = [(r.id, r.name, link(r)) for r in rows]
    counts, people = _trends(service.monthly(grain, period, inside))
    return _page(
        "assessment/group.html",
        head=head,
        rows=rows,
        period=period,
        place=name,
        heatmap=_heatmap(links, service.monthly(child, period, inside), period, child.value),
        hrefs={gid: href for gid, _name, href in links},
        counts=counts,
        people=people,
        child=child.value,
        drill=_drill(period, **drill),
        releases=service.releases(grain, period, inside),
        release_drill=drill,
        export_args={"grain": child.value, **drill, **_period_args(period)},
        **extra,
    )


def _township_in_scope(township_id: int, scope: Scope) -> Township:
    place = db_session().get(Township, township_id)
    if (
        place is None
        or scope.county_id not in (None, place.county_id)
        or scope.township_id not in (None, township_id)
    ):
        abort(404)
    return place


@bp.route("/township/<int:township_id>")
@allow(*READERS)
@collector_paused()
def township(township_id: int) -> ResponseReturnValue:
    """Show one township's figures and its playback points."""
    place = _township_in_scope(township_id, _scope())
    period = _period()
    return _group_page(
        place.name,
        period,
        (Grain.TOWNSHIP, Grain.POINT),
        Scope(township_id=township_id),
        lambda r: _drill(period, point=r.id),
        drill={"township": township_id},
        county_link=url_for("assessment.county", county_id=place.county_id, **_period_args(period)),
        point_study=point_study(
            db_session(), place.county_id, township_id=township_id, days=(period.start, period.end)
        ),
    )


def _filter() -> ScreeningFilter:
    month = request.args.get("month") or None
    if month is not None:
        Period.months(month, month)  # checks the form
    return ScreeningFilter(
        county_id=lenient_id(request.args.get("county")),
        township_id=lenient_id(request.args.get("township")),
        point_id=lenient_id(request.args.get("point")),
        month=month,
        release_id=lenient_id(request.args.get("release")),
    )


@bp.route("/screenings")
@allow(*READERS)
def screenings() -> ResponseReturnValue:
    """List the screenings behind a figure (a county, township, point, month)."""
    period, where = _period(), _filter()
    page = lenient_id(request.args.get("page")) or 1
    rows, total = _service().screenings(period, _scope(), where, page=page)
    pages = max(1, -(-total // PAGE_SIZE))
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "assessment/screenings.html",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        args=args,
        period=period,
        where=where,
    )


@bp.route("/screening/<int:screening_id>")
@allow(*READERS)
def screening(screening_id: int) -> ResponseReturnValue:
    """Show one screening report (the row at the end of a drill-down)."""
    scope = _scope()
    row = db_session().get(Screening, screening_id)
    if (
        row is None
        or scope.county_id not in (None, row.county_id)
        or scope.township_id not in (None, row.township_id)
    ):
        abort(404)
    county_name = db_session().get(County, row.county_id)
    return render_template("assessment/screening.html", row=row, county=county_name)


@bp.route("/export.<fmt>")
@allow(*READERS)
def export(fmt: str) -> ResponseReturnValue:
    """Download the figures: XLSX (Chinese headers, for people) or CSV (for programs)."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    scope, period = _scope(), _period()
    asked = request.args.get("grain", "")
    grain = Grain(asked) if asked in {g.value for g in Grain} else Grain.COUNTY
    if scope.township_id is not None and grain == Grain.COUNTY:
        grain = Grain.TOWNSHIP  # a township account's file covers its township, no more
    inside = Scope(
        county_id=scope.county_id or lenient_id(request.args.get("county")),
        township_id=scope.township_id or lenient_id(request.args.get("township")),
    )
    rows = _service().scores(grain, period, inside)
    name = f"assessment-{grain.value}-{period.month_keys()[0]}-{period.month_keys()[-1]}"
    if fmt == "csv":
        body = assessment_export.csv_document(rows)
        return Response(
            body,
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(
        assessment_export.xlsx_document(rows, grain, period),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )
