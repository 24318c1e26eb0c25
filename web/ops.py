"""Operations endpoints: ``/healthz`` (alive), ``/readyz`` (dependencies), ``/metrics``."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from mam.health import readiness
from mam.metrics import MamCollector
from mam.models import Role
from web.auth import PUBLIC, allow
from web.extensions import csrf, db_session, runtime

bp = Blueprint("ops", __name__)


@bp.route("/healthz")
@allow(PUBLIC)
def healthz() -> ResponseReturnValue:
    """Say the process answers (liveness: no dependency is touched)."""
    return jsonify(status="ok")


@bp.route("/readyz")
@allow(PUBLIC)
def readyz() -> ResponseReturnValue:
    """Check database, broker, storage and free space; 503 naming what failed."""
    results = readiness(runtime(), db_session())
    failed = [r.name for r in results if not r.ok]
    body = {
        "status": "fail" if failed else "ok",
        "failed": failed,
        "checks": {
            r.name: {"ok": r.ok, "detail": r.detail, "seconds": r.seconds} for r in results
        },
    }
    return jsonify(body), 503 if failed else 200


def _metrics_allowed() -> bool:
    token = runtime().settings.metrics_token
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").strip(), token)
    return bool(current_user.is_authenticated and Role.ADMIN in current_user.roles)


@bp.route("/metrics")
@allow(PUBLIC)  # admins by session, Prometheus by MAM_METRICS_TOKEN: checked below
def metrics() -> ResponseReturnValue:
    """Expose Prometheus metrics to admins and to holders of the metrics token."""
    if not _metrics_allowed():
        return Response(
            _("Metrics need an administrator or the metrics token."),
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            mimetype="text/plain",
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MamCollector(runtime(), db_session()))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


csrf.exempt(bp)
