"""In Chromium: the sprite scrub preview, thumbnails and QC report; an admin retries a job."""

from __future__ import annotations

from pathlib import Path

import pytest

from mam.models import Role, Version
from mam.services.ingest import IngestService
from mam.services.users import UserService
from tests import media
from tests.conftest import cut_midstream
from tests.e2e.conftest import PASSWORD, LiveSystem, shot
from tests.workerproc import wait_for_state
from workers.celery_app import make_celery
from workers.dispatch import CeleryQueue

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _ingest(live: LiveSystem, path: Path, title: str) -> tuple[int, int]:
    rt = live.runtime
    with rt.db.session(queue=CeleryQueue(make_celery(rt.settings))) as s:
        version = (
            IngestService(s, rt.storage)
            .ingest_file(path, programme="时代风采", title=title)
            .version
        )
        return version.id, version.episode_id


def _login(live: LiveSystem, page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(live.url + "/")


def test_scrub_preview_thumbnails_and_qc_report(
    live_system: LiveSystem,
    page,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    source = media.make_clip(tmp_path / "乡村振兴 第5集.mp4", seconds=12, size="640x360")
    vid, episode = _ingest(live_system, source, "乡村振兴 第5集")
    assert wait_for_state(live_system.runtime, vid, {"ready", "failed"}, timeout=120) == "ready"
    _login(live_system, page, "reviewer")
    page.goto(f"{live_system.url}/episodes/{episode}")
    page.wait_for_selector("[data-testid=scrub][data-cues='12']")
    track = page.locator("[data-testid=scrub] .scrub-track")
    box = track.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.54, box["y"] + box["height"] / 2)
    preview = page.locator("[data-testid=scrub-preview]")
    preview.wait_for(state="visible")
    style = preview.get_attribute("style") or ""
    assert "sprite-001.jpg" in style and "160px" in style  # a cell of the sprite sheet
    assert preview.get_attribute("data-cue") == "sprite-001.jpg#960,0"  # cell 7 of 10x2
    assert preview.inner_text() == "0:06"
    # The sheet really loads (the preview is not an empty box).
    loaded = page.evaluate(
        """url => new Promise(ok => { const i = new Image(); i.onload = () => ok(i.naturalWidth);
                                      i.onerror = () => ok(0); i.src = url; })""",
        style.split('url("', 1)[1].split('")', 1)[0],
    )
    assert loaded == 1600
    shot(page, "episode-scrub-preview")
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    at = page.eval_on_selector("[data-testid=player]", "v => v.currentTime")
    assert at == pytest.approx(9.0, abs=0.5)
    # Thumbnails and the QC report further down the page.
    thumbs = page.locator("[data-testid=thumbnails] img")
    assert thumbs.count() == 10
    thumbs.last.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=thumbnails] img')]"
        ".every(i => i.complete && i.naturalWidth === 320)"
    )
    qc = page.locator("[data-testid=qc-report]")
    assert qc.get_attribute("data-verdict") == "pass"
    assert page.locator("[data-testid=qc-verdict]").inner_text() == "通过"
    assert "（目标 -23 LUFS，线性归一化）" in page.locator("[data-testid=qc-loudness]").inner_text()
    qc.scroll_into_view_if_needed()
    shot(page, "episode-qc-report")


def test_admin_retries_a_failed_job(
    live_system: LiveSystem,
    page,
    clip: Path,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    with live_system.runtime.db.session() as s:
        UserService(s).create("admin", PASSWORD, [Role.ADMIN], display_name="王管理员")
    broken = cut_midstream(clip, tmp_path / "断片.mp4")
    vid, episode = _ingest(live_system, broken, "断片")
    assert wait_for_state(live_system.runtime, vid, {"ready", "failed"}, timeout=120) == "failed"
    _login(live_system, page, "admin")
    page.goto(f"{live_system.url}/episodes/{episode}")
    reason = page.locator("[data-testid=failure-reason]").inner_text()
    assert reason.startswith("质量检查：所有成品都比源文件短（")  # translated from the QC report
    assert "源文件可能已损坏" in reason
    assert page.locator("[data-testid=qc-report]").get_attribute("data-verdict") == "fail"
    page.click("[data-testid=retry-job]")
    assert "已重新排队" in page.locator(".flash").inner_text()
    shot(page, "episode-retry")
    # The worker takes it up again; the broken file fails again, with its reason.
    page.wait_for_selector("[data-testid=version-state][data-state=failed]", timeout=90_000)
    with live_system.runtime.db.session() as s:
        job = s.get_one(Version, vid).jobs[-1]
        assert job.attempts == 1 and job.last_error and job.last_error.startswith("QC: ")
