"""County portal: this county's releases, resumable package downloads, receipts, screenings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from xml.etree import ElementTree as ET

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.http import parse_range_header

from mam import inputs
from mam.errors import InvalidInput
from mam.exports import xml_document
from mam.models import Role, User
from mam.models.release import Receipt, ReleasePackage
from mam.runtime import Runtime
from mam.services.releases import ReleaseService
from web.auth import allow
from web.extensions import db_session, runtime, storage

bp = Blueprint("county", __name__, url_prefix="/county")
PRESIGN_SECONDS = 10 * 60
CHUNK = 1 << 20
ATOM = "http://www.w3.org/2005/Atom"
MAX_VIEWERS = 1_000_000


def _service() -> ReleaseService:
    return ReleaseService(db_session())


def _county_id() -> int:
    if current_user.county_id is None:
        abort(403)
    return int(current_user.county_id)


@bp.route("/")
@allow(Role.COUNTY)
def index() -> ResponseReturnValue:
    """List the releases aimed at the signed-in county."""
    releases = _service().for_county(_county_id())
    return render_template(
        "county/index.html",
        releases=releases,
        today=date.today(),
        receipts={r.release_id for r in _receipts()},
    )


def _receipts() -> list[Receipt]:
    return list(
        db_session().scalars(select(Receipt).where(Receipt.county_id == current_user.county_id))
    )


@bp.route("/packages/<int:package_id>/download")
@allow(Role.COUNTY)
def download(package_id: int) -> ResponseReturnValue:
    """Send a package with Range/If-Range/ETag (local) or a short-lived link (S3)."""
    service = _service()
    package = service.package_for_download(package_id, current_user)
    raw_range = request.headers.get("Range")
    if raw_range is not None and parse_range_header(raw_range) is None:
        # Werkzeug would ignore a malformed Range and send everything; a resuming client
        # is better told plainly that its request makes no sense.
        abort(416)
    key, size, pid, user_id = (
        package.storage_key or "",
        package.size or 0,
        package.id,
        current_user.id,
    )
    url = storage().presigned_url(
        key, expires=PRESIGN_SECONDS, filename=_filename(package), content_type="application/zip"
    )
    if url is not None:
        service.record_download(package, current_user, start=0, sent=0, completed=False)
        return redirect(url, code=302)
    path = storage().local_path(key)
    if path is None or not path.is_file():
        abort(404)
    name = _filename(package)
    db_session().close()  # no database transaction held while streaming gigabytes
    response = send_file(
        path,
        mimetype="application/zip",
        conditional=True,
        etag=True,
        as_attachment=True,
        download_name=name,
        max_age=0,
    )
    if response.status_code not in (200, 206):
        return response
    rng = response.content_range
    start, stop = (rng.start, rng.stop) if rng and rng.start is not None else (0, size)
    close = getattr(response.response, "close", None)
    if close is not None:  # replaced by 1 MiB reads (Werkzeug's wrapper reads 8 KiB)
        close()
    response.response = _stream(path, start, stop or size, runtime(), pid, user_id, size)
    return response


def _stream(
    path: Path, start: int, stop: int, rt: Runtime, package_id: int, user_id: int, size: int
) -> Iterator[bytes]:
    """Yield bytes ``start``..``stop`` of the file, then log how many really went out."""
    sent = 0
    try:
        with path.open("rb") as fh:
            fh.seek(start)
            while sent < stop - start:
                chunk = fh.read(min(CHUNK, stop - start - sent))
                if not chunk:
                    break
                sent += len(chunk)
                yield chunk
    finally:  # also when the client goes away mid-download (the generator is closed)
        with rt.db.session() as session:
            package = session.get(ReleasePackage, package_id)
            user = session.get(User, user_id)
            if package is not None and user is not None:
                ReleaseService(session).record_download(
                    package, user, start=start, sent=sent, completed=start + sent >= size
                )


def _filename(package: ReleasePackage) -> str:
    return f"{package.release.name}-{package.kind.value}.zip"


@bp.route("/releases/<int:release_id>/receipt", methods=["POST"])
@allow(Role.COUNTY)
def confirm_receipt(release_id: int) -> ResponseReturnValue:
    """Confirm that the county received the release set."""
    service = _service()
    service.confirm_receipt(service.get(release_id), current_user)
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


@bp.route("/releases.json")
@allow(Role.COUNTY)
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
                "packages": [
                    {
                        "id": p.id,
                        "kind": p.kind.value,
                        "state": p.state.value,
                        "size": p.size,
                        "sha256": p.sha256,
                        "url": url_for(".download", package_id=p.id, _external=True),
                    }
                    for p in r.packages
                ],
            }
        )
    return {"releases": items}


@bp.route("/feed.atom")
@allow(Role.COUNTY)
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
        for p in r.packages:
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
