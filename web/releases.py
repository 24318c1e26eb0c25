"""Publisher pages: release sets, their episodes, targets, packages and coverage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from mam import inputs
from mam.errors import Conflict, InvalidInput, NotAllowed
from mam.models import County, Role, Version, VersionState
from mam.models.licence import USES
from mam.models.release import ReleaseSet
from mam.services.coverage import CoverageReports
from mam.services.coverage_tables import coverage_table, utilisation_table
from mam.services.licences import LicenceService
from mam.services.releases import ReleaseService
from web.auth import allow
from web.exports import export
from web.extensions import db_session

bp = Blueprint("releases", __name__, url_prefix="/releases")
PUBLISHERS = (Role.PUBLISHER, Role.ADMIN)
MAX_COUNT = 1_000_000  # villages or playback points of one county


def _service() -> ReleaseService:
    return ReleaseService(db_session())


def _coverage() -> CoverageReports:
    return CoverageReports(db_session())


def _release(release_id: int) -> ReleaseSet:
    return _service().get(release_id)


@bp.route("/")
@allow(*PUBLISHERS)
def index() -> ResponseReturnValue:
    """List release sets, newest first, with a form to start one."""
    sets = db_session().scalars(select(ReleaseSet).order_by(ReleaseSet.id.desc())).all()
    return render_template("releases/index.html", releases=sets, today=date.today())


@bp.route("/", methods=["POST"])
@allow(*PUBLISHERS)
def create() -> ResponseReturnValue:
    """Start a draft release set."""
    raw_date = request.form.get("publish_date", "").strip()
    try:
        publish_date = date.fromisoformat(raw_date) if raw_date else None
    except ValueError:
        raise InvalidInput(_("The publish date must look like 2026-12-01.")) from None
    release = _service().create(
        request.form.get("name", ""),
        current_user,
        notes=request.form.get("notes", ""),
        publish_date=publish_date,
    )
    return redirect(url_for(".detail", release_id=release.id))


@bp.route("/dashboard")
@allow(*PUBLISHERS)
def dashboard() -> ResponseReturnValue:
    """Coverage over time (目标考核): per release set, and the county list."""
    rows = _coverage().dashboard()
    counties = db_session().scalars(select(County).order_by(County.code)).all()
    return render_template("releases/dashboard.html", rows=rows, counties=counties)


@bp.route("/utilisation.csv")
@allow(*PUBLISHERS)
def utilisation_csv() -> ResponseReturnValue:
    """Export per release and county: received, screenings, viewers (CSV, for programs)."""
    return export(utilisation_table(_coverage()), "utilisation", "csv")


@bp.route("/utilisation.xlsx")
@allow(*PUBLISHERS)
def utilisation_xlsx() -> ResponseReturnValue:
    """The same table as an Excel workbook, for people."""
    return export(utilisation_table(_coverage()), "utilisation", "xlsx")


@bp.route("/counties/<int:county_id>", methods=["GET", "POST"])
@allow(*PUBLISHERS)
def county_history(county_id: int) -> ResponseReturnValue:
    """A county's history of releases; its profile (villages, playback points)."""
    county = db_session().get(County, county_id)
    if county is None:
        abort(404)
    if request.method == "POST":
        try:
            villages = inputs.parse_int(request.form.get("villages"), "villages", maximum=MAX_COUNT)
            points = inputs.parse_int(
                request.form.get("playback_points"), "playback_points", maximum=MAX_COUNT
            )
        except InvalidInput:
            raise InvalidInput(_("Villages and playback points must be whole numbers.")) from None
        _coverage().update_county_profile(
            county, villages=villages, playback_points=points, actor=current_user
        )
        flash(_("County profile saved."), "info")
        return redirect(url_for(".county_history", county_id=county_id))
    return render_template(
        "releases/county.html", county=county, history=_coverage().county_history(county)
    )


@bp.route("/<int:release_id>")
@allow(*PUBLISHERS)
def detail(release_id: int) -> ResponseReturnValue:
    """Show a set: episodes, targets, packages with progress, coverage."""
    release = _release(release_id)
    session = db_session()
    pinned = {i.episode_id for i in release.items}
    approved = [
        v
        for v in session.scalars(
            select(Version)
            .where(Version.state == VersionState.APPROVED)
            .order_by(Version.id.desc())
        )
        if v.episode_id not in pinned
    ]
    counties = session.scalars(select(County).order_by(County.code)).all()
    coverage = _coverage().coverage(release) if release.state.value != "draft" else []
    return render_template(
        "releases/detail.html",
        release=release,
        approved=approved,
        counties=counties,
        coverage=coverage,
        targeted={t.county_id for t in release.targets},
        licence_states=LicenceService(session).states(i.episode for i in release.items),
        all_uses=USES,
    )


def _on_page(
    release_id: int, act: Callable[[], object], done: str | None = None
) -> ResponseReturnValue:
    """Run ``act`` and go back to the set's page, saying ``done``; a refusal the publisher
    can put right there (a licence, an empty set, no counties, a missing reason) is shown
    there instead, and nothing was changed."""
    try:
        act()
    except (InvalidInput, NotAllowed, Conflict) as exc:
        db_session().rollback()
        flash(exc.translated(_), "error")
    else:
        if done:
            flash(done, "info")
    return redirect(url_for(".detail", release_id=release_id))


@bp.route("/<int:release_id>/items", methods=["POST"])
@allow(*PUBLISHERS)
def add_item(release_id: int) -> ResponseReturnValue:
    """Pin an approved version into the set."""
    version_id = inputs.parse_id(request.form.get("version_id"), "version_id")
    release = _release(release_id)
    return _on_page(release_id, lambda: _service().add_version(release, version_id, current_user))


@bp.route("/<int:release_id>/uses", methods=["POST"])
@allow(*PUBLISHERS)
def uses(release_id: int) -> ResponseReturnValue:
    """Choose what the set is for (TV, village playback, online learning)."""
    release = _release(release_id)
    chosen = request.form.getlist("uses")
    return _on_page(
        release_id, lambda: _service().set_uses(release, chosen, current_user), _("Uses saved.")
    )


@bp.route("/<int:release_id>/items/<int:item_id>/delete", methods=["POST"])
@allow(*PUBLISHERS)
def remove_item(release_id: int, item_id: int) -> ResponseReturnValue:
    """Take an episode out of a draft set."""
    release = _release(release_id)
    return _on_page(release_id, lambda: _service().remove_item(release, item_id, current_user))


@bp.route("/<int:release_id>/targets", methods=["POST"])
@allow(*PUBLISHERS)
def targets(release_id: int) -> ResponseReturnValue:
    """Choose all counties or some."""
    ids = (
        None
        if request.form.get("all")
        else inputs.ids(request.form.getlist("county"))
    )
    release = _release(release_id)
    return _on_page(
        release_id,
        lambda: _service().set_targets(release, ids, current_user),
        _("Target counties saved."),
    )


@bp.route("/<int:release_id>/publish", methods=["POST"])
@allow(*PUBLISHERS)
def publish(release_id: int) -> ResponseReturnValue:
    """Publish the set and queue its package builds (sent after the commit)."""
    release = _release(release_id)
    return _on_page(
        release_id,
        lambda: _service().publish(release, current_user),
        _("Published. The packages are being built."),
    )


@bp.route("/<int:release_id>/withdraw", methods=["POST"])
@allow(*PUBLISHERS)
def withdraw(release_id: int) -> ResponseReturnValue:
    """Withdraw a published set, with a reason counties will see."""
    release = _release(release_id)
    reason = request.form.get("reason", "")
    return _on_page(
        release_id,
        lambda: _service().withdraw(release, reason, current_user),
        _("The release set was withdrawn."),
    )


@bp.route("/<int:release_id>/packages/<int:package_id>/rebuild", methods=["POST"])
@allow(*PUBLISHERS)
def rebuild(release_id: int, package_id: int) -> ResponseReturnValue:
    """Queue a failed package build again."""
    return _on_page(release_id, lambda: _service().rebuild_package(package_id, current_user))


@bp.route("/<int:release_id>/progress")
@allow(*PUBLISHERS)
def progress(release_id: int) -> ResponseReturnValue:
    """Return package build states and progress as JSON (polled by the page)."""
    release = _release(release_id)
    return {
        "release_id": release.id,
        "state": release.state.value,
        "packages": [
            {
                "id": p.id,
                "kind": p.kind.value,
                "county": p.county.code if p.county is not None else None,
                "state": p.state.value,
                "progress": p.progress,
                "size": p.size,
                "error": p.last_error,
            }
            for p in release.packages
        ],
    }


@bp.route("/<int:release_id>/coverage.csv")
@allow(*PUBLISHERS)
def coverage_csv(release_id: int) -> ResponseReturnValue:
    """Export the coverage table (target assessment, 目标考核) as CSV, for programs."""
    release = _release(release_id)
    return export(coverage_table(_coverage(), release), f"coverage-{release.id}", "csv")


@bp.route("/<int:release_id>/coverage.xlsx")
@allow(*PUBLISHERS)
def coverage_xlsx(release_id: int) -> ResponseReturnValue:
    """The coverage table as an Excel workbook, for people."""
    release = _release(release_id)
    return export(coverage_table(_coverage(), release), f"coverage-{release.id}", "xlsx")
