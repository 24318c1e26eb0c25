"""``mam users stages`` and ``mam review chain``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mam.cli import cli
from mam.config import Settings
from mam.models import Role
from mam.runtime import build_runtime
from mam.services.users import UserService


def test_grant_stages_and_set_the_chain(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    rt = build_runtime(settings)
    with rt.db.session() as s:
        UserService(s).create("li", "long password", [Role.REVIEWER])
    rt.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["review", "chain"])
    assert result.exit_code == 0 and result.output.strip() == "初审 → 终审"
    result = runner.invoke(cli, ["users", "stages", "li", "终审"])
    assert result.exit_code == 0 and result.output.strip() == "li: 终审"
    result = runner.invoke(cli, ["users", "stages", "li", "三审"])
    assert result.exit_code != 0 and "There is no review stage 三审;" in result.output
    result = runner.invoke(cli, ["review", "chain", "初审", "复审", "终审"])
    assert result.output.strip() == "初审 → 复审 → 终审"
