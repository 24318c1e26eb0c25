"""JSON API (``/api/v1``): episodes, search, metadata, uploads, versions, progress and jobs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from marshmallow import Schema

from mam.errors import InvalidInput
from mam.i18n import N_
from mam.models import Episode, Role
from mam.search import SearchQuery
from mam.search import search as search_episodes
from mam.services import metadata
from mam.services.catalogue import CatalogueService, job_dict, version_dict
from mam.services.tokens import SCOPE_API, SCOPE_COUNTY
from web import api_schemas
from web.api_schemas import EpisodeQuery, JobQuery, MetadataUpdate
from web.auth import STAFF, allow
from web.extensions import csrf, db_session, runtime
from web.messages import error_body, translate
from web.openapi import document as openapi_document
from web.tokens import accepts_token, require_csrf
from web.upload import service as upload_service

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.route("/versions/<int:version_id>")
@allow(*STAFF)
def version(version_id: int) -> ResponseReturnValue:
    """Return a version with technical metadata, renditions and jobs."""
    return jsonify(version_dict(CatalogueService(db_session()).version(version_id), translate))


@bp.route("/versions/<int:version_id>/progress")
@allow(*STAFF)
def progress(version_id: int) -> ResponseReturnValue:
    """Return a version's state, its newest job's progress and all its jobs (polled by pages).

    ``job`` drives the page's progress bar and ``jobs`` its jobs table, from one reading.
    """
    v = CatalogueService(db_session()).version(version_id)
    jobs = [job_dict(j, translate) for j in v.jobs]
    return jsonify(
        version_id=v.id,
        state=v.state.value,
        failure_reason=v.failure_reason,
        job=jobs[-1] if jobs else None,
        jobs=jobs,
    )


@bp.route("/jobs")
@allow(*STAFF)
def jobs() -> ResponseReturnValue:
    """Return recent jobs, optionally filtered by ``state``."""
    try:
        state = api_schemas.load(JobQuery(), request.args, what="parameter").get("state")
    except InvalidInput as exc:
        return _bad_request(exc)
    rows = CatalogueService(db_session()).jobs(state=state.value if state else None)
    return jsonify(jobs=[job_dict(j, translate) for j in rows])


# ---- catalogue: episodes, metadata, uploads (per-user API tokens or the session) ----------

EDITORS = (Role.PRODUCER, Role.ADMIN)
EVERYONE = tuple(r for r in Role if r is not Role.SYSTEM)


def _bad_request(exc: InvalidInput) -> ResponseReturnValue:
    body = error_body(exc, 400)
    if exc.details.get("errors"):
        body["fields"] = exc.details["errors"]
    if exc.details.get("allowed"):
        body["allowed"] = exc.details["allowed"]
    return jsonify(body), 400


def _json_body(schema: Schema) -> dict[str, Any]:
    """Return the JSON object of the request once ``schema`` finds nothing wrong with it."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput(N_("send a JSON object with Content-Type: application/json"))
    api_schemas.load(schema, data)
    return data


def episode_summary(episode: Episode) -> dict[str, Any]:
    """Return the list form of an episode."""
    latest = episode.latest_version
    return {
        "id": episode.id,
        "title": episode.title,
        "number": episode.number,
        "programme": episode.programme.name,
        "source_type": episode.source_type.value,
        "latest_version": {"id": latest.id, "number": latest.number, "state": latest.state.value}
        if latest
        else None,
        "url": url_for("api.episode", episode_id=episode.id),
    }


@bp.route("/episodes")
@allow(*STAFF)
def episodes() -> ResponseReturnValue:
    """List or search episodes, newest first, with facet counts."""
    try:
        args = api_schemas.load(EpisodeQuery(), request.args, what="parameter")
        q = SearchQuery(
            text=args.get("q", ""),
            programme_id=args.get("programme"),
            topic_id=args.get("topic"),
            source=args["source"].value if "source" in args else None,
            state=args["state"].value if "state" in args else None,
            year=args.get("year"),
            page=args.get("page", 1),
            per_page=args.get("per_page", 20),
        )
    except InvalidInput as exc:
        return _bad_request(exc)
    result = search_episodes(db_session(), q)
    return jsonify(
        total=result.total,
        total_exact=result.total_exact,
        page=result.page,
        per_page=result.per_page,
        episodes=[episode_summary(e) for e in result.episodes],
        facets={
            k: [{"value": f.value, "label": f.label, "count": f.count} for f in v]
            for k, v in result.facets.items()
        },
    )


@bp.route("/episodes/<int:episode_id>")
@allow(*STAFF)
def episode(episode_id: int) -> ResponseReturnValue:
    """Return an episode with its metadata and every version (renditions, jobs)."""
    s = db_session()
    ep = CatalogueService(s).episode(episode_id)
    return jsonify(
        **episode_summary(ep),
        synopsis=ep.synopsis,
        metadata=metadata.metadata_dict(s, ep),
        versions=[version_dict(v, translate) for v in ep.versions],
    )


@bp.route("/episodes/<int:episode_id>", methods=["PATCH"])
@allow(*EDITORS)
@csrf.exempt
def update_episode(episode_id: int) -> ResponseReturnValue:
    """Update an episode's metadata with the fields given (others stay as they are)."""
    require_csrf()
    s = db_session()
    ep = CatalogueService(s).episode(episode_id)
    try:
        data = _json_body(MetadataUpdate())
        title = data.get("title")
        cleaned = metadata.clean_metadata(s, data)
        metadata.apply_metadata(s, ep, cleaned, current_user, title=title)
        s.flush()
    except InvalidInput as exc:
        s.rollback()
        return _bad_request(exc)
    return episode(episode_id)


@bp.route("/uploads", methods=["POST"])
@allow(*EDITORS)
@csrf.exempt
def start_upload() -> ResponseReturnValue:
    """Open a resumable upload; send the bytes to ``upload_url`` with tus 1.0 PATCH requests."""
    require_csrf()
    try:
        # A field of the JSON body out of bounds is a 400 like any other (tus says 413).
        data = _json_body(api_schemas.upload_request(runtime().settings.max_upload_size)())
        length = int(data["length"])
        upload = upload_service().create(
            current_user,
            length=length,
            filename=str(data.get("filename") or ""),
            meta={k: v for k, v in data.items() if k not in ("length", "filename")},
        )
    except InvalidInput as exc:
        return _bad_request(exc)
    return jsonify(
        id=upload.id,
        upload_url=url_for("upload.file", upload_id=upload.id, _external=True),
        offset=upload.offset,
        length=upload.length,
        expires_at=upload.expires_at.isoformat(),
    ), 201


@bp.route("/topics")
@allow(*STAFF)
def topics() -> ResponseReturnValue:
    """List the topic taxonomy."""
    rows = metadata.ensure_topics(db_session())
    return jsonify(topics=[{"id": t.id, "name": t.name} for t in rows])


@bp.route("/openapi.json")
@allow(*EVERYONE)
@accepts_token(SCOPE_API, SCOPE_COUNTY)
def openapi_json() -> ResponseReturnValue:
    """Return the OpenAPI 3 description of this API."""
    return jsonify(_document(request.host_url.rstrip("/")))


@bp.route("/docs")
@allow(*EVERYONE)
def docs() -> ResponseReturnValue:
    """Show the API documentation as a page."""
    return render_template("catalogue_api_docs.html", spec=_document(""))


def _document(server: str) -> dict[str, Any]:
    return openapi_document(
        server,
        topics=[t.name for t in metadata.ensure_topics(db_session())],
        max_upload=runtime().settings.max_upload_size,
    )
