"""The QC report on the episode page speaks the reader's language (issue #10, item 1)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from mam.models import Version
from mam.runtime import Runtime
from tests import media
from tests.web.conftest import process_now

pytestmark = pytest.mark.slow


def test_an_mpeg_menu_passes_qc_and_its_notes_are_in_chinese(
    login: Callable[[str], FlaskClient], runtime: Runtime, tmp_path: Path
) -> None:
    vid = process_now(runtime, media.make_dvd_menu_ps(tmp_path / "菜单.vob"), title="菜单")
    with runtime.db.session() as s:
        v = s.get_one(Version, vid)
        episode = v.episode_id
        findings = v.qc_report.findings  # type: ignore[attr-defined]
    assert {(f["check"], f["severity"]) for f in findings if f["check"] == "sync"} == {
        ("sync", "info")}  # fmt: skip
    client = login("reviewer")
    html = client.get(f"/episodes/{episode}").get_data(as_text=True)
    assert 'data-testid="qc-report" data-verdict="pass"' in html
    assert 'data-check="sync"' in html and "声画" in html
    assert "声音比画面早 0.105 秒开始；成品从第一帧画面开始" in html
    assert "声音比画面早 0.462 秒结束；其余部分已补静音" in html  # 0.233 + 0.544 vs 0.338 + 0.901
    assert "the sound starts" not in html
    english = client.get(f"/episodes/{episode}", headers={"Accept-Language": "en"})
    assert "the sound starts 0.105 s before the picture" in english.get_data(as_text=True)
