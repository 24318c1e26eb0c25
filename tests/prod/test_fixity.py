"""The fixity audit re-hashes originals within a byte budget and raises the alarm on damage."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from mam.cli import cli
from mam.config import Settings
from mam.models import AuditEvent, Role
from mam.models.fixity import FixityCheck, FixityObject, FixityResult
from mam.runtime import Runtime, build_runtime
from mam.services.fixity import FixityAudit
from mam.services.ingest import IngestService
from mam.services.notify import Notice
from mam.services.users import UserService
from tests.conftest import make_settings, unique_copy
from web import create_app
from workers.celery_app import FIXITY_TASK, celery_config


class Recorder:
    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def send(self, notice: Notice) -> None:
        self.notices.append(notice)


@pytest.fixture(params=["local", "s3"])
def library(
    request: pytest.FixtureRequest, home: Path, migrated_sqlite: Path, clip: Path, tmp_path: Path
) -> Iterator[tuple[Runtime, list[str]]]:
    """A runtime (local disk or S3) holding two ingested originals and an admin."""
    (home / "mam.db").write_bytes(migrated_sqlite.read_bytes())
    extra: dict[str, object] = {}
    if request.param == "s3":
        extra = {
            "storage_backend": "s3",
            "s3_bucket": f"fx-{uuid.uuid4().hex[:8]}",
            "s3_endpoint_url": request.getfixturevalue("moto_endpoint"),
            "s3_create_bucket": True,
        }
    rt = build_runtime(make_settings(home, **extra))
    keys = []
    with rt.db.session() as s:
        UserService(s).create("admin", "correct horse battery", [Role.ADMIN], display_name="管理员")
        for n in (1, 2):
            src = unique_copy(clip, tmp_path / f"第{n}集.mp4")
            result = IngestService(s, rt.storage).ingest_file(
                src, programme="时代风采", title=f"第{n}集"
            )
            keys.append(result.version.asset.storage_key)
        s.commit()
    yield rt, keys
    rt.close()


def test_audit_is_bounded_and_finds_a_changed_original(
    library: tuple[Runtime, list[str]],
) -> None:
    rt, (first, second) = library
    size = rt.storage.size(first)
    recorder = Recorder()
    with rt.db.session() as s:
        audit = FixityAudit(s, rt.storage, notifier=recorder)
        run = audit.run(budget_bytes=size)  # room for one original per run
        assert [c.result for c in run.checked] == [FixityResult.OK]
        run = audit.run(budget_bytes=size)
        assert len(run.checked) == 1 and run.checked[0].storage_key != run.checked[0].kind
        s.commit()
        checked = {c.storage_key for c in s.scalars(select(FixityCheck))}
        assert checked == {first, second}  # the second run took the one not yet checked

    rt.storage.put_bytes(second, b"bit rot" * 1000)  # the bytes change under the same key
    with rt.db.session() as s:
        run = FixityAudit(s, rt.storage, notifier=recorder).run(budget_bytes=10 * size)
        s.commit()
        assert {c.storage_key: c.result for c in run.checked}[second] is FixityResult.MISMATCH
        damaged = s.get_one(FixityObject, second)
        assert damaged.damaged and damaged.last_result is FixityResult.MISMATCH
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "fixity_failed"))
        assert event is not None and event.details["storage_key"] == second
    assert [n.title for n in recorder.notices] == [second]
    assert [u.username for u in recorder.notices[0].recipients] == ["admin"]

    client = create_app({"TESTING": True}, runtime=rt).test_client()
    from tests.web.conftest import csrf_from

    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "admin", "password": "correct horse battery",
                                "csrf_token": token})  # fmt: skip
    inbox = client.get("/inbox", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'data-testid="fixity-damaged"' in inbox and second in inbox and "内容已变" in inbox
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "mam_fixity_damaged_objects 1.0" in metrics
    assert 'mam_fixity_checks_total{result="mismatch"} 1.0' in metrics


def test_cli_reports_and_runs(
    library: tuple[Runtime, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    rt, (first, _second) = library
    for key, value in rt.settings.to_env().items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    report = runner.invoke(cli, ["fixity"])
    assert report.exit_code == 0 and "2 objects under audit, 2 never checked" in report.output
    assert runner.invoke(cli, ["fixity", "run", "--all"]).exit_code == 0
    rt.storage.delete(first)
    ran = runner.invoke(cli, ["fixity", "run", "--all"])
    assert ran.exit_code == 1 and f"missing   original {first}" in ran.output
    report = runner.invoke(cli, ["fixity"])
    assert report.exit_code == 1 and f"DAMAGED original {first}" in report.output


def test_beat_schedules_the_audit(settings: Settings) -> None:
    schedule = celery_config(settings)["beat_schedule"]
    assert schedule["fixity-audit"] == {"task": FIXITY_TASK, "schedule": 3600.0}
