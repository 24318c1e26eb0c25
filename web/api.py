"""JSON API (``/api/v1``): versions, progress and jobs."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from mam.services.catalogue import CatalogueService, job_dict, version_dict
from web.auth import STAFF, allow
from web.extensions import db_session

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.route("/versions/<int:version_id>")
@allow(*STAFF)
def version(version_id: int) -> ResponseReturnValue:
    """Return a version with technical metadata, renditions and jobs."""
    return jsonify(version_dict(CatalogueService(db_session()).version(version_id)))


@bp.route("/versions/<int:version_id>/progress")
@allow(*STAFF)
def progress(version_id: int) -> ResponseReturnValue:
    """Return a version's state and its newest job's progress (polled by the pages)."""
    v = CatalogueService(db_session()).version(version_id)
    job = v.jobs[-1] if v.jobs else None
    return jsonify(
        version_id=v.id,
        state=v.state.value,
        failure_reason=v.failure_reason,
        job=job_dict(job) if job else None,
    )


@bp.route("/jobs")
@allow(*STAFF)
def jobs() -> ResponseReturnValue:
    """Return recent jobs, optionally filtered by ``state``."""
    state = request.args.get("state")
    rows = CatalogueService(db_session()).jobs(state=state)
    return jsonify(jobs=[job_dict(j) for j in rows])
