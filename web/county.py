"""County portal: this county's releases, resumable package downloads, receipts, screenings.

Package downloads go through the app on every storage backend (ranged reads from S3), so
the server knows which bytes each county was really sent (``mam.services.downloads``).
Scripts use a personal API token (scope ``county:download`` or ``api``) on the feeds, the
JSON list, the downloads and receipts; see ``web.tokens``.
"""

from __future__ import annotations

from datetime import date
from xml.etree import ElementTree as ET

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from mam import inputs
from mam.errors import InvalidInput
from mam.exports import xml_document
from mam.models import Role, User
from mam.models.release import Receipt, ReleasePackage, ReleaseSet, Screening
from mam.services.county_distribution import CountyDistribution
from mam.services.tokens import SCOPE_API, SCOPE_COUNTY
from web.auth import allow
from web.conditional import Representation, send_object
from web.extensions import csrf, db_session, runtime, storage
from web.tokens import accepts_token, require_csrf, token_authenticated
from web.transactions import commit_before_streaming

bp = Blueprint("county", __name__, url_prefix="/county")
TOKEN_SCOPES = (SCOPE_API, SCOPE_COUNTY)
ATOM = "http://www.w3.org/2005/Atom"
MAX_VIEWERS = 1_000_000


def _service() -> CountyDistribution:
    return CountyDistribution(db_session())


def _county_id() -> int:
    if current_user.county_id is None:
        abort(403)
    return int(current_user.county_id)


def episode_duration(item_version: object) -> float | None:
    """Return a pinned version's duration in seconds (from its source), if known."""
    asset = getattr(item_version, "asset", None)
    value = (asset.media_info or {}).get("duration") if asset is not None else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


@bp.route("/")
@allow(Role.COUNTY)
def index() -> ResponseReturnValue:
    """List the releases aimed at the signed-in county, their episodes and screenings."""
    county_id = _county_id()
    service = _service()
    releases = service.for_county(county_id)
    screenings: dict[int, list[Screening]] = {}
    for row in db_session().scalars(
        select(Screening)
        .where(Screening.county_id == county_id)
        .order_by(Screening.screened_on.desc(), Screening.id.desc())
    ):
        screenings.setdefault(row.release_id, []).append(row)
    return render_template(
        "county/index.html",
        releases=releases,
        packages={r.id: service.packages_for(r, current_user) for r in releases},
        today=date.today(),
        receipts={r.release_id for r in _receipts()},
        screenings=screenings,
        duration=episode_duration,
    )


def _receipts() -> list[Receipt]:
    return list(
        db_session().scalars(select(Receipt).where(Receipt.county_id == current_user.county_id))
    )


def _visible_release(release_id: int) -> ReleaseSet:
    service = _service()
    release = db_session().get(ReleaseSet, release_id)
    if release is None or not service.visible_to(release, current_user):
        abort(404)
    return release


@bp.route("/releases/<int:release_id>/posters/<int:version_id>")
@allow(Role.COUNTY, Role.PUBLISHER, Role.ADMIN)
@accepts_token(*TOKEN_SCOPES)
def poster(release_id: int, version_id: int) -> ResponseReturnValue:
    """Return the poster of an episode in a set the user may see."""
    release = _visible_release(release_id)
    item = next((i for i in release.items if i.version_id == version_id), None)
    image = item.version.rendition("poster") if item else None
    if image is None:
        abort(404)
    key, size = image.storage_key, image.size
    rep = Representation(size=size, etag=f"poster-{version_id}-{size}", last_modified=None)
    commit_before_streaming()
    response = send_object(request, storage(), key, rep, mimetype=image.mime_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/packages/<int:package_id>/download", methods=["GET", "HEAD"])
@allow(Role.COUNTY)
@accepts_token(*TOKEN_SCOPES)
def download(package_id: int) -> ResponseReturnValue:
    """Send a package with Range/If-Range/ETag/If-Match, counting the bytes really sent."""
    package = _service().package_for_download(package_id, current_user)
    key, pid, user_id = package.storage_key or "", package.id, current_user.id
    rep = Representation(
        size=package.size or 0, etag=package.sha256, last_modified=package.built_at
    )
    name = _filename(package)
    rt = runtime()
    commit_before_streaming()  # no database transaction held while streaming gigabytes

    def sent(start: int, count: int) -> None:
        with rt.db.session() as session:
            row = session.get(ReleasePackage, pid)
            user = session.get(User, user_id)
            if row is not None and user is not None:
                CountyDistribution(session).record_download(row, user, start=start, sent=count)

    return send_object(
        request,
        storage(),
        key,
        rep,
        mimetype="application/zip",
        download_name=name,
        on_sent=sent,
    )


def _filename(package: ReleasePackage) -> str:
    county = f"-{package.county.code}" if package.county is not None else ""
    return f"{package.release.name}-{package.kind.value}{county}.zip"


@bp.route("/releases/<int:release_id>/receipt", methods=["POST"])
@allow(Role.COUNTY)
@accepts_token(*TOKEN_SCOPES)
@csrf.exempt
def confirm_receipt(release_id: int) -> ResponseReturnValue:
    """Confirm that the county received the release set."""
    require_csrf()  # the form's token, unless a script signs in with an API token
    service = _service()
    receipt = service.confirm_receipt(service.get(release_id), current_user)
    if token_authenticated():
        return jsonify(release_id=release_id, confirmed_at=receipt.confirmed_at.isoformat())
    flash(_("Receipt confirmed. Thank you."), "info")
    return redirect(url_for(".index"))


@bp.route("/releases/<int:release_id>/screenings", methods=["POST"])
@allow(Role.COUNTY)
def report_screening(release_id: int) -> ResponseReturnValue:
    """Report a screening: date, township or place, number of viewers."""
    service = _service()
    try:
        screened_on = date.fromisoformat(request.form.get("screened_on", ""))
        viewers = inputs.parse_int(request.form.get("viewers", ""), "viewers", maximum=MAX_VIEWERS)
    except (ValueError, InvalidInput):
        raise InvalidInput(_("Give the date (2026-12-01) and the number of viewers.")) from None
    service.report_screening(
        service.get(release_id),
        current_user,
        screened_on=screened_on,
        place=request.form.get("place", ""),
        viewers=viewers,
    )
    flash(_("Screening recorded."), "info")
    return redirect(url_for(".index"))


def package_dict(p: ReleasePackage) -> dict[str, object]:
    """Return a package as the JSON list and the API show it."""
    return {
        "id": p.id,
        "kind": p.kind.value,
        # The county a package was made for (its own logo), None: shared by the others.
        "county": p.county.code if p.county is not None else None,
        "state": p.state.value,
        "size": p.size,
        "sha256": p.sha256,
        "url": url_for("county.download", package_id=p.id, _external=True),
    }


@bp.route("/releases.json")
@allow(Role.COUNTY)
@accepts_token(*TOKEN_SCOPES)
def releases_json() -> ResponseReturnValue:
    """Return this county's releases for automated fetchers."""
    items = []
    for r in _service().for_county(_county_id()):
        items.append(
            {
                "id": r.id,
                "name": r.name,
                "state": r.state.value,
                "published_at": r.published_at.isoformat() if r.published_at else None,
                "withdrawn_reason": r.withdrawn_reason,
                "packages": [package_dict(p) for p in _service().packages_for(r, current_user)],
            }
        )
    return {"releases": items}


@bp.route("/feed.atom")
@allow(Role.COUNTY)
@accepts_token(*TOKEN_SCOPES)
def feed() -> ResponseReturnValue:
    """Return an Atom feed of this county's releases."""
    releases = _service().for_county(_county_id())
    updated = max((r.published_at for r in releases if r.published_at), default=None)
    doc = ET.Element("feed", xmlns=ATOM)  # plain names: rel, href stay unprefixed
    ET.SubElement(doc, "id").text = f"urn:mam:county:{_county_id()}"
    ET.SubElement(doc, "title").text = _("Release sets")
    ET.SubElement(doc, "updated").text = (
        updated.isoformat() if updated else "1970-01-01T00:00:00+00:00"
    )
    for r in releases:
        entry = ET.SubElement(doc, "entry")
        ET.SubElement(entry, "id").text = f"urn:mam:release:{r.id}"
        ET.SubElement(entry, "title").text = r.name
        when = r.withdrawn_at or r.published_at
        ET.SubElement(entry, "updated").text = when.isoformat() if when else ""
        summary = r.withdrawn_reason if r.state.value == "withdrawn" else r.notes
        ET.SubElement(entry, "summary").text = summary or ""
        for p in _service().packages_for(r, current_user):
            if p.state.value == "ready":
                ET.SubElement(
                    entry,
                    "link",
                    rel="enclosure",
                    type="application/zip",
                    length=str(p.size or 0),
                    href=url_for(".download", package_id=p.id, _external=True),
                )
    xml = xml_document(doc, indent=False)
    return Response(xml, mimetype="application/atom+xml")
