from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from mam.cli import cli
from mam.config import Settings
from mam.models import Episode, Programme, Version
from mam.models.catalogue import Subtitle
from mam.runtime import Runtime
from mam.services.metadata import metadata_dict
from tests.conftest import unique_copy

HEADER = "文件,栏目,标题,集号,来源,主题,摄制日期,关键词,字幕\n"


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def library(runtime: Runtime) -> Runtime:
    with runtime.db.session() as s:
        s.add_all([Programme(name="时代风采"), Programme(name="科技之光")])
        s.commit()
    return runtime


@pytest.fixture
def batch(clip: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "批次"
    (folder / "sub").mkdir(parents=True)
    unique_copy(clip, folder / "党建 第1集.mp4")
    unique_copy(clip, folder / "sub" / "果树.mp4")
    (folder / "果树.srt").write_bytes(
        "1\n00:00:00,000 --> 00:00:01,500\n果树修剪要点\n\n".encode("gbk")
    )
    return folder


def episodes(rt: Runtime) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(Episode)) or 0


def test_dry_run_lists_every_problem_with_its_line_and_imports_nothing(
    run, library: Runtime, batch: Path
) -> None:  # type: ignore[no-untyped-def]
    manifest = batch / "清单.csv"
    rows = [
        "党建 第1集.mp4,时代风采,党建 第1集,1,自制,党的建设,2024-05-01,党建,",
        "缺失.mp4,时代风采,缺失的片子,,,,,,",
        "党建 第1集.mp4,时代风采,重复,,,,,,",
        "sub/果树.mp4,不存在的栏目,果树,,引进,农业技术,2024-13-01,,",
        "sub/果树.mp4,科技之光,党建 第1集,,外星,不存在的主题,,,",
    ]
    manifest.write_bytes((HEADER + "\n".join(rows) + "\n").encode("gbk"))
    result = run("import", str(batch), "--manifest", str(manifest), "--dry-run")
    assert result.exit_code == 2, result.output
    out = result.output
    assert "encoding GBK" in out
    assert "line 3: file 缺失.mp4 does not exist" in out
    assert "line 4: file 党建 第1集.mp4 is also on line 2" in out
    assert "line 5: unknown programme 《不存在的栏目》" in out
    assert "line 5: production date: “2024-13-01” is not a date" in out
    assert "line 6: file sub/果树.mp4 is also on line 5" in out
    assert "line 6: Unknown topic: 不存在的主题." in out
    assert "line 6: “外星” is not a source" in out
    assert "nothing was imported" in out
    assert episodes(library) == 0
    # without --dry-run the same manifest is refused the same way
    assert run("import", str(batch), "--manifest", str(manifest)).exit_code == 2
    assert episodes(library) == 0


def test_import_applies_metadata_and_is_idempotent(run, library: Runtime, batch: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = batch / "manifest.csv"
    rows = [
        "党建 第1集.mp4,时代风采,党建 第1集,1,自制,党的建设、先进典型,2024年5月1日,党建;基层,",
        "sub/果树.mp4,科技之光,果树修剪,2,引进,农业技术,2023/7/8,果树,果树.srt",
    ]
    manifest.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\n".join(rows) + "\n").encode("utf-8"))
    dry = run("import", str(batch), "--manifest", str(manifest), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "encoding UTF-8 with BOM" in dry.output and "summary: 2 would import" in dry.output
    assert episodes(library) == 0

    first = run("import", str(batch), "--manifest", str(manifest))
    assert first.exit_code == 0, first.output
    assert "summary: 2 imported" in first.output
    with library.db.session() as s:
        ep = s.scalar(select(Episode).where(Episode.title == "果树修剪"))
        assert ep is not None and ep.number == 2 and ep.source_type.value == "imported"
        meta = metadata_dict(s, ep)
        assert meta["topics"] == ["科技富民/农业技术"]
        assert meta["production_date"] == "2023-07-08" and meta["keywords"] == ["果树"]
        sub = s.scalars(select(Subtitle)).one()
        with library.storage.open(sub.storage_key) as fh:
            vtt = fh.read().decode("utf-8")
        assert vtt.startswith("WEBVTT") and "00:00:00.000 --> 00:00:01.500" in vtt
        assert "果树修剪要点" in vtt  # GBK subtitle decoded
        other = s.scalar(select(Episode).where(Episode.title == "党建 第1集"))
        assert other is not None
        assert metadata_dict(s, other)["topics"] == ["党的建设", "先进典型"]
        versions = s.scalar(select(func.count()).select_from(Version))

    again = run("import", str(batch), "--manifest", str(manifest))
    assert again.exit_code == 0, again.output
    assert "summary: 2 skipped" in again.output and "already in the library" in again.output
    with library.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Version)) == versions


def test_manifest_in_an_unknown_encoding_is_refused(run, library: Runtime, batch: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = batch / "bad.csv"
    manifest.write_bytes(HEADER.encode("utf-8") + b"\x80\x80,\x80\n")
    result = run("import", str(batch), "--manifest", str(manifest))
    assert result.exit_code == 2
    assert "neither UTF-8 nor GBK" in result.output


def test_json_manifest_and_missing_columns(run, library: Runtime, batch: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = batch / "m.json"
    manifest.write_text(
        json.dumps(
            {"episodes": [{"file": "党建 第1集.mp4", "programme": "时代风采", "title": "甲"}]},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    result = run("import", str(batch), "--manifest", str(manifest))
    assert result.exit_code == 0 and "1 imported" in result.output
    no_title = batch / "n.csv"
    no_title.write_text("file,programme\na.mp4,时代风采\n", encoding="utf-8")
    result = run("import", str(batch), "--manifest", str(no_title))
    assert result.exit_code == 2 and "line 1: missing column(s) title" in result.output


def test_watch_imports_files_once_they_stop_growing(run, library: Runtime, batch: Path) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "import", str(batch), "--watch", "--programme", "时代风采",
        "--interval", "0.2", "--cycles", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 imported" in result.output
    with library.db.session() as s:
        titles = set(s.scalars(select(Episode.title)))
    assert titles == {"党建 第1集", "果树"}


def test_the_dry_run_report_speaks_the_command_lines_language(
    run, library: Runtime, batch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Under a Chinese locale the report's own words are Chinese too, not only the refusals."""
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.delenv("MAM_LOCALE", raising=False)
    manifest = batch / "清单.csv"
    rows = ["缺失.mp4,时代风采,缺失的片子,,,,,,", "党建 第1集.mp4,时代风采,党建 第1集,,,,,,"]
    manifest.write_bytes((HEADER + "\n".join(rows) + "\n").encode("gbk"))
    refused = run("import", str(batch), "--manifest", str(manifest), "--dry-run")
    assert refused.exit_code == 2
    assert "清单 清单.csv：2 行，编码 GBK" in refused.output
    assert "1 个问题；没有导入任何内容：" in refused.output
    assert "第 2 行：" in refused.output and "line 2" not in refused.output
    manifest.write_bytes((HEADER + rows[1] + "\n").encode("gbk"))
    dry = run("import", str(batch), "--manifest", str(manifest), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "汇总：1 将导入" in dry.output
    done = run("import", str(batch), "--manifest", str(manifest))
    assert "汇总：1 已导入" in done.output and "第 1 版" in done.output
    again = run("import", str(batch), "--manifest", str(manifest))
    assert "汇总：1 已跳过" in again.output and "库中已有，版本 id" in again.output
