"""HLS through the app: master and variant playlists rewritten, segments served or signed.

The ladder is stored as ffmpeg wrote it (``renditions/<version>/<profile>/master.m3u8``,
``<rung>/index.m3u8``, ``<rung>/seg_00000.ts``) with relative links. A presigned master
on S3 cannot resolve those (each object needs its own signature), and local storage has
no URL at all, so the app serves both playlists itself and rewrites every URI in them
(with the ``m3u8`` library) into an absolute URL of this app:

* master -> the variant playlist route of each rung;
* variant -> the segment route of each segment.

The segment route answers local storage with the file itself (Range, ETag) and S3 with
a redirect to a presigned URL made at that moment. Why a redirect rather than signed
URLs written into the playlist, or proxying: a VOD playlist is read once, so signed
URLs in it would expire in the middle of a long film (or must live for hours); each
segment request is checked against the viewer's session like every other medium of
the version; and the bytes (the bulk of the traffic) go from the object store to the
viewer, never through the web workers. The cost is one small redirect per 6 s segment.
A player in a page (hls.js) fetches segments with XHR, so the bucket needs a CORS rule
allowing GET from the site (docker/README.md); native players and ffmpeg do not.

Learners (online learning) reach the same routes for the versions their county received
in a published release set, and nothing else (404). Every segment served to a learner is
noted with its position and length (``StudyService.note_segment``): what their player
may claim as studied is bounded by what the server actually sent.
"""

from __future__ import annotations

import re

import m3u8
from flask import Blueprint, Response, abort, current_app, redirect, send_file, url_for
from flask import session as flask_session
from flask.typing import ResponseReturnValue
from flask_login import current_user

from mam.errors import MamError
from mam.models import Rendition, Role, Version
from mam.services.sessions import SessionService
from mam.services.study import StudyService
from mam.services.subtitle_hls import GROUP, first_pts, subtitle_playlist, with_timestamp_map
from mam.services.subtitles import (
    current_subtitle,
    current_subtitles,
    language_name,
    normalise_language,
)
from storage import ObjectNotFound
from web.auth import STAFF, allow
from web.extensions import SESSION_TOKEN, db_session, storage
from web.transactions import commit_before_streaming

bp = Blueprint("hls", __name__, url_prefix="/media/versions/<int:version_id>/hls")
HLS_MIME = "application/vnd.apple.mpegurl"
SEGMENT_MIME = {".ts": "video/mp2t", ".m4s": "video/iso.segment", ".mp4": "video/mp4"}
PRESIGN_SECONDS = 15 * 60
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def _is_learner() -> bool:
    return not current_user.has_role(*STAFF)


def _ladder(version_id: int, profile: str) -> tuple[str, set[str]]:
    """Return the storage folder of a version's HLS rendition and its rung names (or 404)."""
    if not NAME.match(profile):
        abort(404)
    session = db_session()
    if _is_learner() and not StudyService(session).may_stream(current_user, version_id):
        abort(404)  # another county's film, or none at all: the same answer
    version = session.get(Version, version_id)
    item: Rendition | None = version.rendition(profile) if version else None
    if item is None or item.mime_type != HLS_MIME:
        abort(404)
    folder = item.storage_key.rsplit("/", 1)[0]
    rungs = {str(r["name"]) for r in (item.media_info or {}).get("rungs", [])}
    commit_before_streaming()  # do not hold a database transaction while serving
    return folder, rungs


def _read(key: str) -> str:
    try:
        with storage().open(key) as fh:
            return fh.read().decode("utf-8")
    except ObjectNotFound:
        abort(404)


def _playlist(text: str) -> Response:
    response = Response(text, mimetype=HLS_MIME)
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


@bp.route("/<profile>/master.m3u8")
@allow(*STAFF, Role.LEARNER)
def master(version_id: int, profile: str) -> ResponseReturnValue:
    """Return the master playlist with absolute links to the app's variant playlists."""
    folder, rungs = _ladder(version_id, profile)
    playlist = m3u8.loads(_read(f"{folder}/master.m3u8"))
    for variant in playlist.playlists:
        rung = variant.uri.split("/", 1)[0]
        if rung not in rungs:
            abort(404)
        variant.uri = url_for(
            "hls.variant", version_id=version_id, profile=profile, rung=rung, _external=True
        )
    version = db_session().get(Version, version_id)
    tracks = current_subtitles(db_session(), version) if version else []
    for n, row in enumerate(tracks):
        media = m3u8.Media(
            uri=url_for(
                "hls.subtitles", version_id=version_id, profile=profile,
                language=row.language, r=row.id, _external=True,
            ),
            type="SUBTITLES", group_id=GROUP, language=row.language,
            name=language_name(row.language), default="YES" if n == 0 else "NO",
            autoselect="YES",
        )  # fmt: skip
        playlist.add_media(media)
        for variant in playlist.playlists:
            variant.stream_info.subtitles = GROUP
            variant.media.append(media)
    db_session().close()
    return _playlist(playlist.dumps())


def _subtitle_key(version_id: int, language: str) -> str | None:
    """Return the storage key of the WebVTT a version plays in ``language`` (None: none)."""
    try:
        code = normalise_language(language)
    except MamError:
        return None
    version = db_session().get(Version, version_id)
    row = current_subtitle(db_session(), version, code) if version else None
    key = row.storage_key if row else None
    db_session().close()
    return key


@bp.route("/<profile>/subs/<language>.m3u8")
@allow(*STAFF, Role.LEARNER)
def subtitles(version_id: int, profile: str, language: str) -> ResponseReturnValue:
    """Return the subtitle media playlist of a language: one WebVTT segment, the whole film."""
    folder, rungs = _ladder(version_id, profile)
    if _subtitle_key(version_id, language) is None or not rungs:
        abort(404)
    timing = _timing(folder, sorted(rungs)[0])
    uri = url_for(
        "hls.subtitle_segment", version_id=version_id, profile=profile, language=language,
        _external=True,
    )  # fmt: skip
    return _playlist(subtitle_playlist(uri, sum(seconds for _, seconds in timing.values())))


@bp.route("/<profile>/subs/<language>.vtt")
@allow(*STAFF, Role.LEARNER)
def subtitle_segment(version_id: int, profile: str, language: str) -> ResponseReturnValue:
    """Return the WebVTT segment of a language, its cue times mapped to the video's clock."""
    folder, rungs = _ladder(version_id, profile)
    key = _subtitle_key(version_id, language)
    if key is None or not rungs:
        abort(404)
    text = with_timestamp_map(_read(key), _start_pts(folder, sorted(rungs)[0]))
    response = Response(text, mimetype="text/vtt")
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


def _start_pts(folder: str, rung: str) -> int:
    """Return the first PTS of a rung's first segment (cached per app; 0 when unreadable)."""
    cache: dict[str, int] = current_app.extensions.setdefault("mam_hls_pts", {})
    key = f"{folder}/{rung}"
    if key not in cache:
        timing = _timing(folder, rung)
        first = min(timing, key=lambda uri: timing[uri][0]) if timing else None
        pts = None
        if first is not None and NAME.match(first):
            try:
                with storage().open(f"{folder}/{rung}/{first}") as fh:
                    pts = first_pts(fh.read(256 * 1024))
            except ObjectNotFound:
                pts = None
        cache[key] = pts or 0
    return cache[key]


@bp.route("/<profile>/<rung>/index.m3u8")
@allow(*STAFF, Role.LEARNER)
def variant(version_id: int, profile: str, rung: str) -> ResponseReturnValue:
    """Return a rung's playlist with absolute links to its segments."""
    folder, rungs = _ladder(version_id, profile)
    if rung not in rungs:
        abort(404)
    playlist = m3u8.loads(_read(f"{folder}/{rung}/index.m3u8"))
    for segment in playlist.segments:
        if not NAME.match(segment.uri):
            abort(404)
        segment.uri = url_for(
            "hls.segment",
            version_id=version_id,
            profile=profile,
            rung=rung,
            name=segment.uri,
            _external=True,
        )
    return _playlist(playlist.dumps())


@bp.route("/<profile>/<rung>/<name>")
@allow(*STAFF, Role.LEARNER)
def segment(version_id: int, profile: str, rung: str, name: str) -> ResponseReturnValue:
    """Serve one segment (local storage, with Range) or redirect to a fresh signed URL."""
    folder, rungs = _ladder(version_id, profile)
    suffix = name[name.rfind(".") :] if "." in name else ""
    if rung not in rungs or not NAME.match(name) or suffix not in SEGMENT_MIME:
        abort(404)
    key = f"{folder}/{rung}/{name}"
    store = storage()
    if not store.exists(key):  # one HEAD on S3: a clear 404 rather than the store's 403
        abort(404)
    if _is_learner():
        _note_served(version_id, folder, rung, name)
    url = store.presigned_url(key, expires=PRESIGN_SECONDS, content_type=SEGMENT_MIME[suffix])
    if url is not None:
        return redirect(url, code=302)
    path = store.local_path(key)
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, mimetype=SEGMENT_MIME[suffix], conditional=True, max_age=3600)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _timing(folder: str, rung: str) -> dict[str, tuple[int, float]]:
    """Return each segment's (position in the film, seconds) from the rung's playlist.

    Kept per app: a version's ladder is written once under deterministic keys.
    """
    cache: dict[str, dict[str, tuple[int, float]]] = current_app.extensions.setdefault(
        "mam_hls_timing", {}
    )
    key = f"{folder}/{rung}/index.m3u8"
    if key not in cache:
        playlist = m3u8.loads(_read(key))
        first = playlist.media_sequence or 0
        cache[key] = {
            seg.uri: (first + n, float(seg.duration or 0.0))
            for n, seg in enumerate(playlist.segments)
        }
    return cache[key]


def _note_served(version_id: int, folder: str, rung: str, name: str) -> None:
    """Record (once per position) that a learner's session was sent this segment."""
    timing = _timing(folder, rung).get(name)
    if timing is None:
        abort(404)  # a file beside the ladder that its playlist does not name
    session = db_session()
    login = SessionService(session).find(current_user.id, flask_session.get(SESSION_TOKEN))
    StudyService(session).note_segment(
        current_user, version_id, timing[0], timing[1], login.id if login else None
    )
    commit_before_streaming()  # the segment is noted before it is sent
