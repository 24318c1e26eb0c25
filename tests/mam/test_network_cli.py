"""``mam network import``: the dry run lists every row, the import writes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.cli import cli
from mam.config import Settings
from mam.models.network import PlaybackPoint
from tests.network_world import World, build


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_dry_run_then_import(run, session: Session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world: World = build(session)
    county_user = world.county_a.username
    session.rollback()  # SQLite: hold no transaction while the command writes
    sheet = tmp_path / "网点.csv"
    sheet.write_bytes(
        "乡镇,网点名称,类型,电话\n城关镇,南村播放点,行政村,13700000000\n".encode("gbk")
    )
    result = run(
        "network", "import", str(sheet), "--county", "a", "--as-user", county_user, "--dry-run"
    )
    assert result.exit_code == 0, result.output
    assert "GBK" in result.output and "南村播放点" in result.output and "create" in result.output
    assert "nothing was written" in result.output
    assert session.scalar(select(PlaybackPoint).where(PlaybackPoint.name == "南村播放点")) is None
    session.rollback()
    result = run("network", "import", str(sheet), "--county", "a", "--as-user", county_user)
    assert result.exit_code == 0, result.output
    point = session.scalar(select(PlaybackPoint).where(PlaybackPoint.name == "南村播放点"))
    assert point is not None and point.contact_phone == "13700000000"


def test_problems_stop_the_import_and_other_counties_are_refused(
    run,
    session: Session,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    world: World = build(session)
    county_a, county_b = world.county_a.username, world.county_b.username
    session.rollback()
    sheet = tmp_path / "bad.csv"
    sheet.write_text("乡镇,网点名称,类型\n城关镇,甲点,城堡\n城关镇,乙点,学校\n", encoding="utf-8")
    result = run(
        "network", "import", str(sheet), "--county", "a", "--as-user", county_a
    )
    assert result.exit_code == 2
    assert "城堡" in result.output and "1 problem(s)" in result.output
    assert session.scalar(select(PlaybackPoint).where(PlaybackPoint.name == "乙点")) is None
    session.rollback()
    result = run(
        "network", "import", str(sheet), "--county", "a", "--as-user", county_b
    )
    assert result.exit_code == 3  # not found: another county's staff
