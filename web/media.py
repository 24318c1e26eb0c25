"""Media through storage: local files with Range support, S3 by presigned redirect."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, redirect, request, url_for
from flask.typing import ResponseReturnValue

from mam.models import Rendition, Version
from web.auth import STAFF, allow
from web.conditional import Representation, send_object
from web.extensions import db_session, storage
from web.transactions import commit_before_streaming

bp = Blueprint("media", __name__, url_prefix="/media")
PRESIGN_SECONDS = 15 * 60


def _serve(key: str, mime_type: str, download_name: str) -> ResponseReturnValue:
    store = storage()
    url = store.presigned_url(key, expires=PRESIGN_SECONDS)
    if url is not None:
        return redirect(url, code=302)
    path = store.local_path(key)
    if path is None or not path.is_file():
        abort(404)
    # Range, If-Range (strong only), If-Match (412 without a body), ETag, Last-Modified:
    # the same RFC 9110 handling as the county's package downloads.
    st = path.stat()
    rep = Representation(
        size=st.st_size,
        etag=f"{st.st_mtime_ns:x}-{st.st_size:x}",
        last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
    )
    response = send_object(request, store, key, rep, mimetype=mime_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/renditions/<int:rendition_id>")
@allow(*STAFF)
def rendition(rendition_id: int) -> ResponseReturnValue:
    """Stream a rendition (the player's source)."""
    item = db_session().get(Rendition, rendition_id)
    if item is None:
        abort(404)
    if item.mime_type == "application/vnd.apple.mpegurl":  # relative links: see web/hls.py
        target = url_for("hls.master", version_id=item.version_id, profile=item.profile)
        return redirect(target, code=302)
    key, mime, name = item.storage_key, item.mime_type, item.storage_key.rsplit("/", 1)[-1]
    commit_before_streaming()  # do not hold a database transaction while streaming
    return _serve(key, mime, name)


@bp.route("/versions/<int:version_id>/poster")
@allow(*STAFF)
def poster(version_id: int) -> ResponseReturnValue:
    """Return a version's poster image."""
    version = db_session().get(Version, version_id)
    item = version.rendition("poster") if version else None
    if item is None:
        abort(404)
    key, mime = item.storage_key, item.mime_type
    commit_before_streaming()
    return _serve(key, mime, f"poster-{version_id}.jpg")
