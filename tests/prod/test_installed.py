"""The installed wheel runs the whole chain on PostgreSQL + Redis + S3 (moto), from outside
the source tree: migrate, gunicorn, two workers and beat; ingest → ready → submit → 初审 →
终审 → release → package → county download with Range → receipt; over HTTP and the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
import sqlalchemy as sa

from storage.testing import AWS_ENV_TO_CLEAR, DUMMY_AWS_ENV
from tests.conftest import PG_URL, WORKER_REDIS_URL, unavailable
from tests.prod.forms import login, submit
from tests.prod.installed import ROOT, Installed, make_venv, running, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]
BROKER = WORKER_REDIS_URL
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv outside the source tree with the wheel and its locked dependencies."""
    return make_venv(tmp_path_factory.mktemp("installed") / "venv", wheel)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """An empty schema of its own (``mam db upgrade`` creates the tables)."""
    schema = f"mam_inst_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(PG_URL)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except sa.exc.OperationalError as exc:
        engine.dispose()
        unavailable(f"PostgreSQL not reachable at {PG_URL}: {exc.orig}")
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def installed(venv: Path, pg_schema: str, moto_endpoint: str, tmp_path: Path) -> Installed:
    client = redis.Redis.from_url(BROKER)
    try:
        client.flushdb()
    except redis.ConnectionError as exc:
        unavailable(f"Redis not reachable at {BROKER}: {exc}")
    finally:
        client.close()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MAM_", "PYTHON", "VIRTUAL_ENV")) and k not in AWS_ENV_TO_CLEAR
    }
    env.update(DUMMY_AWS_ENV)
    env.update(
        PATH=f"{venv / 'bin'}:{env['PATH']}",
        MAM_HOME=str(tmp_path / "home"),
        MAM_DATABASE_URL=pg_schema,
        MAM_BROKER_URL=BROKER,
        MAM_STORAGE_BACKEND="s3",
        MAM_S3_BUCKET=f"inst-{uuid.uuid4().hex[:8]}",
        MAM_S3_ENDPOINT_URL=moto_endpoint,
        MAM_S3_CREATE_BUCKET="1",
        MAM_SECRET_KEY="installed-test-secret",
        MAM_METRICS_TOKEN="metrics-token",
        MAM_WEB_PORT=str(free_port()),
        PYTHONUNBUFFERED="1",
    )
    cwd = tmp_path / "run"
    cwd.mkdir()
    return Installed(venv, cwd, env)


@pytest.mark.timeout(1500)
def test_installed_wheel_runs_the_whole_chain_on_production_services(
    installed: Installed, clip: Path
) -> None:
    inst = installed
    # The code runs from the venv, not from this checkout.
    where = inst.mam("--version").stdout
    assert "version 0.1.0" in where
    located = json.loads(
        __import__("subprocess").run(
            [inst.bin("python"), "-c",
             "import json, mam, web, workers.profiles as p; "
             "print(json.dumps([mam.__file__, web.__file__, str(p.SHIPPED)]))"],
            cwd=inst.cwd, env=inst.env, capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    for path in located:
        assert str(inst.venv) in path and str(ROOT) not in path, path

    from tests.mam.test_migrations import HEAD

    assert f"database at revision {HEAD}" in inst.mam("db", "upgrade").stdout
    checked = inst.mam("check", "--database").stdout
    assert "ok   profiles" in checked and str(inst.venv) in checked
    assert "database is up to date" in checked and "translations: compiled: zh_Hans_CN" in checked

    inst.mam("users", "add", "admin", "--role", "admin", "--password", PASSWORD)
    for name, role in (("producer", "producer"), ("reviewer1", "reviewer"),
                       ("reviewer2", "reviewer"), ("publisher", "publisher")):  # fmt: skip
        inst.mam("users", "add", name, "--role", role, "--password", PASSWORD)
    inst.mam("users", "stages", "reviewer1", "初审")
    inst.mam("users", "stages", "reviewer2", "终审")

    port = inst.env["MAM_WEB_PORT"]
    base = f"http://127.0.0.1:{port}"
    with running(inst):
        inst.start("web", "web", "--workers", "2", "--threads", "4", ready="Booting worker")
        for n in (1, 2):
            inst.start(f"worker{n}", "worker", "--no-beat", "-c", "1", "-n", f"w{n}@%h",
                       ready=" ready.")  # fmt: skip
        beat_log = inst.start("beat", "beat", ready="beat: Starting")
        wait_for(lambda: _status(f"{base}/healthz") == 200, 60, "/healthz")
        ready = requests.get(f"{base}/readyz", timeout=30)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["database"]["detail"] == "postgresql"

        # A county, through the admin pages; then its account.
        admin = login(base, "admin", PASSWORD)
        created = submit(admin, f"{base}/admin/counties", "/admin/counties",
                         {"code": "c1", "name": "甲县"})  # fmt: skip
        assert created.status_code in (302, 303), created.text[:500]
        inst.mam("users", "add", "county", "--role", "county", "--county", "c1",
                 "--password", PASSWORD)  # fmt: skip

        # Ingest through the CLI; the workers process it (S3 originals, renditions).
        out = inst.mam("ingest", str(clip), "--programme", "时代风采", "--title", "第1集",
                       "--as-user", "producer", "--wait", "--timeout", "600", timeout=700).stdout
        version_id = int(re.search(r"version id (\d+)", out).group(1))  # type: ignore[union-attr]
        shown = json.loads(inst.mam("show", str(version_id), "--json").stdout)
        assert shown["state"] == "ready", shown

        # Submit (the programme has no responsible producer yet: the admin submits), 初审, 终审.
        page = f"{base}/review/versions/{version_id}"
        assert submit(admin, page, "/submit").status_code == 302
        for reviewer in ("reviewer1", "reviewer2"):
            signed = submit(login(base, reviewer, PASSWORD), page, "/sign")
            assert signed.status_code == 302, (reviewer, signed.text[:500])
        assert json.loads(inst.mam("show", str(version_id), "--json").stdout)["state"] == "approved"

        # A release set for every county; publishing queues the package builds.
        publisher = login(base, "publisher", PASSWORD)
        made = submit(publisher, f"{base}/releases/", "/releases/", {"name": "2026年第12期"})
        assert made.status_code == 302, made.text[:500]
        detail = made.headers["Location"]
        release_id = int(detail.rstrip("/").rsplit("/", 1)[-1])
        detail = f"{base}/releases/{release_id}"
        assert submit(publisher, detail, "/items").status_code == 302
        assert submit(publisher, detail, "/targets", {"all": "1"}).status_code == 302
        assert submit(publisher, detail, "/publish").status_code == 302
        follow = inst.mam("releases", "show", str(release_id), "--follow", timeout=600).stdout
        assert "2026年第12期 (Published)" in follow and "Failed" not in follow, follow
        assert re.search(r"tv\s+Ready to download", follow), follow

        # The county downloads the TV package with a resumed range, then confirms receipt.
        county = login(base, "county", PASSWORD)
        listing = county.get(f"{base}/county/releases.json", timeout=30).json()
        tv = next(p for p in listing["releases"][0]["packages"] if p["kind"] == "tv")
        whole = county.get(tv["url"], timeout=120)
        assert whole.status_code == 200 and whole.content[:2] == b"PK"
        assert hashlib.sha256(whole.content).hexdigest() == tv["sha256"]
        part = county.get(tv["url"], headers={"Range": "bytes=100-"}, timeout=120)
        assert part.status_code == 206 and part.content == whole.content[100:]
        receipt = submit(county, f"{base}/county/", f"/county/releases/{release_id}/receipt")
        assert receipt.status_code == 302
        assert 'data-testid="receipt-done"' in county.get(f"{base}/county/", timeout=30).text
        assert re.search(rf"#{release_id}\s+Published", inst.mam("releases").stdout)

        metrics = requests.get(f"{base}/metrics", timeout=30,
                               headers={"Authorization": "Bearer metrics-token"}).text  # fmt: skip
        # On S3 too the package streams through the app, so the bytes sent are counted.
        assert not whole.history and whole.url == tv["url"]
        assert "mam_package_downloads_total 2.0" in metrics
        sent = re.search(r"^mam_downloaded_bytes_total (\S+)$", metrics, re.M)
        assert sent and float(sent.group(1)) >= len(whole.content) + len(part.content)
        assert 'mam_jobs{queue="transcode",state="succeeded"} 1.0' in metrics
    logs = {name: log.read_text(errors="replace") for name, _proc, log in inst.procs}
    worked = [n for n in ("worker1", "worker2") if "succeeded in" in logs[n]]
    assert worked, "no worker ran a task"
    for name, text in logs.items():
        assert "Traceback" not in text, f"{name}:\n{text[-3000:]}"
    assert "Scheduler: Sending due task" in beat_log.read_text() or "beat: Starting" in logs["beat"]


def _status(url: str) -> int:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.RequestException:
        return 0
