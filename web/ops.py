"""Operations endpoints: ``/healthz`` (alive), ``/readyz`` (dependencies), ``/metrics``."""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid

from flask import Blueprint, Flask, Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from mam import logs
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
access_log = logging.getLogger("mam.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def init_request_ids(app: Flask, *, json_logs: bool) -> None:
    """Give every request an id (the proxy's X-Request-ID or a new one), on every log line
    and in the response; with JSON logs, log each request as one line too."""

    @app.before_request
    def start() -> None:
        given = request.headers.get("X-Request-ID", "")
        rid = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        g.request_id_token = logs.request_id.set(rid)
        g.request_started = time.monotonic()

    @app.after_request
    def finish(response: Response) -> Response:
        rid = logs.request_id.get()
        if rid:
            response.headers["X-Request-ID"] = rid
        if json_logs:
            access_log.info(
                "%s %s %s", request.method, request.path, response.status_code,
                extra={"status": response.status_code, "method": request.method,
                       "path": request.path,
                       "seconds": round(time.monotonic() - g.get("request_started", 0.0), 4)},
            )  # fmt: skip
        return response

    @app.teardown_request
    def reset(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            logs.request_id.reset(token)
