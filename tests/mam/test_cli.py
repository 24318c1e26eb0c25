from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mam.cli import cli
from mam.config import Settings
from tests import media
from tests.conftest import cut_midstream, unique_copy
from tests.workerproc import celery_worker


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


def test_ingest_refuses_non_media_with_the_reason(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = media.make_text_file_as_mp4(tmp_path / "笔记 ../notes.mp4".replace("/", "_"))
    result = run("ingest", str(bad), "--programme", "时代风采", "--title", "笔记")
    assert result.exit_code == 6
    assert "notes.mp4" in result.output and "Invalid data" in result.output
    assert run("jobs").output.strip() == "no jobs"


def test_duplicate_is_refused_naming_the_version(run, fresh_clip: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = run("ingest", str(fresh_clip), "--programme", "时代风采", "--title", "第1集")
    assert first.exit_code == 0, first.output
    assert "version 1 (version id 1" in first.output
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(fresh_clip.read_bytes())
    again = run("ingest", str(copy), "--programme", "时代风采", "--title", "别的")
    assert again.exit_code == 5
    assert "already in the library as 《时代风采》 第1集, version 1;" in again.output


def test_show_prints_metadata_text_and_json(run, fresh_clip: Path) -> None:  # type: ignore[no-untyped-def]
    run("ingest", str(fresh_clip), "--programme", "P", "--title", "T", "--source", "general")
    text = run("show", "1").output
    assert "state:    Uploaded" in text and "320x240" in text and "aac 2 ch 48000 Hz" in text
    data = json.loads(run("show", "1", "--json").output)
    assert data["episode"]["source_type"] == "general"
    assert data["media_info"]["video"][0]["field_order"] == "progressive"
    assert data["jobs"][0]["state"] == "queued"
    missing = run("show", "42")
    assert missing.exit_code == 3 and "Version 42 does not exist." in missing.output


def test_show_and_jobs_speak_chinese_under_a_chinese_locale(
    run, fresh_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAM_LOCALE", "zh_CN.UTF-8")
    ingested = run("ingest", str(fresh_clip), "--programme", "P", "--title", "T").output
    assert ingested.startswith("已入库 ") and "第 1 版（版本 id 1" in ingested
    text = run("show", "1").output
    assert "《P》T — 第 1 版（id 1）" in text
    assert "状态：    已上传" in text and "音频：  aac 2 声道 48000 Hz" in text
    assert "成品文件：尚无" in text and "任务：" in text and "尝试 0 次" in text
    jobs = run("jobs").output
    assert "#1     版本 1     处理" in jobs and "排队中" in jobs
    missing = run("users", "roles", "nobody", "producer")
    assert missing.exit_code == 1 and "没有用户 'nobody'" in missing.output


def test_users_add_and_roles(run) -> None:  # type: ignore[no-untyped-def]
    ok = run(
        "users",
        "add",
        "zhang",
        "--role",
        "producer",
        "--name",
        "张编导",
        "--password",
        "long enough pw",
    )
    assert ok.exit_code == 0 and "producer" in ok.output
    assert (
        run("users", "add", "zhang", "--role", "producer", "--password", "long enough pw").exit_code
        == 5
    )
    bad = run("users", "add", "li", "--role", "superuser", "--password", "long enough pw")
    assert bad.exit_code == 2 and "Unknown role superuser;" in bad.output
    county = run("users", "add", "xian", "--role", "county", "--password", "long enough pw")
    assert county.exit_code == 2 and "bound to a county" in county.output
    assert "producer, reviewer" in run("users", "roles", "zhang", "producer", "reviewer").output


@pytest.mark.slow
def test_ingest_wait_reports_ready_and_failed(
    run,
    settings: Settings,
    clip: Path,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    with celery_worker(settings, tmp_path / "worker.log"):
        good = run(
            "ingest",
            str(unique_copy(clip, tmp_path / "好.mp4")),
            "--programme",
            "P",
            "--title",
            "好片",
            "--wait",
            "--timeout",
            "120",
        )
        assert good.exit_code == 0, good.output
        assert "version 1: Ready" in good.output
        bad = run(
            "ingest",
            str(cut_midstream(clip, tmp_path / "坏.mp4")),
            "--programme",
            "P",
            "--title",
            "坏片",
            "--wait",
            "--timeout",
            "120",
        )
        assert bad.exit_code == 1, bad.output
        assert "version 2: Failed — " in bad.output
        jobs = run("jobs").output
        assert "Succeeded 100.0%" in jobs and "Failed" in jobs
        retry = run("jobs", "retry", "2", "--as-user", "nobody")
        assert retry.exit_code != 0 and "no user 'nobody'" in retry.output


def test_check_media_names_what_this_ffmpeg_lacks(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """An image whose ffmpeg was built without zimg would fail only on the first HDR film:
    ``mam check --media`` (run by the image build) names the missing filter instead."""
    ok = run("check", "--media")
    assert ok.exit_code == 0, ok.output
    assert "ok   media: ffmpeg " in ok.output and "25 filters" in ok.output
    real = shutil.which("ffmpeg")
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        f'if [ "$2" = "-filters" ]; then {real} "$@" | grep -v " zscale "; '
        f'else exec {real} "$@"; fi\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    refused = run("check", "--media")
    assert refused.exit_code == 1
    assert "FAIL media: this ffmpeg lacks filter zscale" in refused.output
