"""MAM_LOG_FORMAT=json: one JSON object a line, with the request id (web) and job id (tasks)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from mam.config import Settings
from mam.logs import configure_logging
from mam.runtime import build_runtime
from tests.conftest import make_settings
from web import create_app
from workers import celery_app


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level


def lines(stream: io.StringIO) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_web_lines_carry_the_request_id(
    home: Path, migrated_sqlite: Path, restore_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    (home / "mam.db").write_bytes(migrated_sqlite.read_bytes())
    settings = make_settings(home, log_format="json")
    stream = io.StringIO()
    monkeypatch.setattr("web.configure_logging", lambda s: configure_logging(s, stream=stream))
    rt = build_runtime(settings)
    try:
        client = create_app({"TESTING": True}, runtime=rt).test_client()
        given = client.get("/healthz", headers={"X-Request-ID": "proxy-abc.123"})
        fresh = client.get("/readyz")
    finally:
        rt.close()
    assert given.headers["X-Request-ID"] == "proxy-abc.123"
    rid = fresh.headers["X-Request-ID"]
    assert len(rid) == 32
    records = lines(stream)
    access = [r for r in records if r["logger"] == "mam.access"]
    assert [(r["path"], r["status"], r["request_id"]) for r in access] == [
        ("/healthz", 200, "proxy-abc.123"),
        ("/readyz", 200, rid),
    ]
    assert {"time", "level", "message", "job_id"} <= set(access[0])


def test_task_lines_carry_the_job_id(restore_root: None) -> None:
    stream = io.StringIO()
    assert configure_logging(Settings(log_format="json"), stream=stream)
    celery_app._task_started(task_id="t-1", kwargs={"job_id": 7})
    logging.getLogger("workers.pipeline").warning("transcoding %s", "第1集")
    celery_app._task_finished()
    logging.getLogger("workers.pipeline").warning("idle")
    first, second = lines(stream)
    assert (
        first["job_id"] == 7
        and first["task_id"] == "t-1"
        and first["message"] == "transcoding 第1集"
    )
    assert second["job_id"] is None and second["level"] == "WARNING"


def test_text_is_the_default_and_a_bad_value_is_refused() -> None:
    assert configure_logging(Settings(log_format="text")) is False
    with pytest.raises(ValueError, match="MAM_LOG_FORMAT"):
        configure_logging(Settings(log_format="xml"))
