"""/healthz, /readyz and /metrics on the embedded default and on PostgreSQL + Redis + S3."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from mam.models import Job, JobKind, JobState, Role, utcnow
from mam.runtime import Runtime, build_runtime
from mam.services.users import UserService
from tests.conftest import REDIS_URL, make_settings
from web import create_app


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_healthz_and_readyz_answer_anonymously(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    body = ready.get_json()
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "broker", "storage", "work_dir"}


def test_readyz_names_what_failed(home: Path, migrated_sqlite: Path) -> None:
    (home / "mam.db").write_bytes(migrated_sqlite.read_bytes())
    settings = make_settings(
        home,
        broker_url=f"redis://127.0.0.1:{closed_port()}/0",
        min_free_bytes=10**18,  # more than any disk here
    )
    rt = build_runtime(settings)
    try:
        response = create_app({"TESTING": True}, runtime=rt).test_client().get("/readyz")
    finally:
        rt.close()
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["broker", "work_dir"]
    assert "MAM_MIN_FREE_BYTES" in body["checks"]["work_dir"]["detail"]
    assert body["checks"]["database"]["ok"] and body["checks"]["storage"]["ok"]


def test_metrics_for_admins_and_the_token_only(
    runtime: Runtime, client: FlaskClient, login: Callable[[str], FlaskClient]
) -> None:
    with runtime.db.session() as s:
        s.add_all([
            Job(kind=JobKind.PROCESS, state=JobState.QUEUED),
            Job(kind=JobKind.PROCESS, state=JobState.FAILED, last_error="InvalidMedia: no video",
                started_at=utcnow() - timedelta(seconds=42), finished_at=utcnow()),
        ])  # fmt: skip
        s.commit()
    assert client.get("/metrics").status_code == 401
    assert login("producer").get("/metrics").status_code == 401
    client.post("/logout", data={"csrf_token": ""})
    admin = create_app({"TESTING": True}, runtime=runtime).test_client()
    from tests.web.conftest import PASSWORD, csrf_from

    token = csrf_from(admin.get("/login").get_data(as_text=True))
    admin.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    response = admin.get("/metrics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'mam_jobs{queue="transcode",state="queued"} 1.0' in text
    assert 'mam_job_failures_total{code="InvalidMedia"} 1.0' in text
    assert 'mam_queue_depth{queue="transcode"}' in text
    for name in ("mam_uploaded_bytes_total", "mam_downloaded_bytes_total",
                 "mam_storage_used_bytes", "mam_job_duration_seconds_bucket"):  # fmt: skip
        assert name in text, name
    assert 'mam_job_duration_seconds_bucket{kind="process",le="30.0"} 0.0' in text
    assert 'mam_job_duration_seconds_bucket{kind="process",le="60.0"} 1.0' in text


def test_metrics_token(home: Path, migrated_sqlite: Path) -> None:
    (home / "mam.db").write_bytes(migrated_sqlite.read_bytes())
    rt = build_runtime(make_settings(home, metrics_token="s3cret-metrics"))
    try:
        client = create_app({"TESTING": True}, runtime=rt).test_client()
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
        assert ok.status_code == 200 and "mam_jobs" in ok.get_data(as_text=True)
    finally:
        rt.close()


@pytest.fixture
def production_runtime(home: Path, pg_url: str, moto_endpoint: str) -> Iterator[Runtime]:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        from tests.conftest import unavailable

        unavailable(f"Redis not reachable at {REDIS_URL}: {exc}")
    settings = make_settings(
        home,
        database_url=pg_url,
        broker_url=REDIS_URL,
        storage_backend="s3",
        s3_bucket=f"ops-{uuid.uuid4().hex[:8]}",
        s3_endpoint_url=moto_endpoint,
        s3_create_bucket=True,
        metrics_token="t",
    )
    rt = build_runtime(settings)
    with rt.db.session() as s:
        UserService(s).create("admin", "correct horse battery", [Role.ADMIN])
    yield rt
    rt.close()


@pytest.mark.postgres
@pytest.mark.redis
def test_readyz_and_metrics_on_production_services(production_runtime: Runtime) -> None:
    client = create_app({"TESTING": True}, runtime=production_runtime).test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    checks = ready.get_json()["checks"]
    assert checks["database"]["detail"] == "postgresql" and checks["storage"]["detail"] == "s3"
    assert "redis" in checks["broker"]["detail"].lower()
    text = client.get("/metrics", headers={"Authorization": "Bearer t"}).get_data(as_text=True)
    assert 'mam_queue_depth{queue="transcode"} 0.0' in text
