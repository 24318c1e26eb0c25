"""In Chromium: the episode page shows one progress; the jobs table follows the bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mam.services.ingest import IngestService
from mam.services.processing import ProcessingService
from tests.conftest import unique_copy
from tests.e2e.conftest import PASSWORD, LiveSystem, shot

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _login(live: LiveSystem, page: Any, username: str) -> None:
    page.goto(live.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(live.url + "/")


def _text(page: Any, selector: str) -> str:
    return str(page.inner_text(selector)).strip()


def test_jobs_table_follows_the_progress_bar(
    live_system: LiveSystem, page: Any, clip: Path, tmp_path: Path
) -> None:
    rt = live_system.runtime
    with rt.db.session() as s:  # not enqueued: this test plays the worker's part itself
        result = IngestService(s, rt.storage).ingest_file(
            unique_copy(clip, tmp_path / "进度.mp4"), programme="时代风采", title="进度"
        )
        vid, job_id, episode = result.version.id, result.job.id, result.version.episode_id
    _login(live_system, page, "producer")
    page.goto(f"{live_system.url}/episodes/{episode}")
    row = f"[data-testid=jobs] tr[data-job='{job_id}']"
    assert _text(page, f"{row} [data-testid=job-state]") == "排队中"

    with rt.db.session() as s:
        processing = ProcessingService(s, rt.storage)
        assert processing.begin(vid, worker="测试") is not None
        processing.record_progress(job_id, 53.2, 25)
    page.wait_for_function(
        "() => document.querySelector('[data-progress-for] .pct').textContent === '53%'",
        timeout=15_000,
    )
    assert "25 s" in _text(page, "[data-eta-for]")
    # The table says the same as the bar, without a reload.
    page.wait_for_function(
        f"() => document.querySelector(\"{row} [data-testid=job-progress]\").textContent === '53%'",
        timeout=5_000,
    )
    assert _text(page, f"{row} [data-testid=job-state]") == "运行中"
    assert _text(page, f"{row} [data-testid=job-attempts]") == "1"
    assert "测试" in _text(page, f"{row} [data-testid=job-worker]")
    shot(page, "episode-progress-one-source")

    with rt.db.session() as s:
        ProcessingService(s, rt.storage).record_progress(job_id, 80, 9)
    page.wait_for_function(
        f"() => document.querySelector(\"{row} [data-testid=job-progress]\").textContent === '80%'"
        " && document.querySelector('[data-progress-for] .pct').textContent === '80%'",
        timeout=15_000,
    )
