"""In Chromium: log in, watch processing progress, see the poster, play the proxy."""

from __future__ import annotations

from pathlib import Path

import pytest

from mam.services.ingest import IngestService
from tests.e2e.conftest import PASSWORD, LiveSystem, shot
from tests.workerproc import wait_for_state
from workers.celery_app import make_celery
from workers.dispatch import CeleryQueue

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_producer_sees_progress_poster_and_plays_the_proxy(
    live_system: LiveSystem,
    page,
    clip: Path,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from tests import media
    from tests.conftest import unique_copy

    # A longer clip, so there is processing to watch.
    source = media.make_clip(tmp_path / "乡村振兴 第3集.mp4", seconds=8, size="640x360")
    rt = live_system.runtime
    page.goto(live_system.url + "/")
    assert "/login" in page.url
    page.fill("input[name=username]", "producer")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(live_system.url + "/")
    assert page.locator("h1").inner_text() == "影片目录"

    with rt.db.session(queue=CeleryQueue(make_celery(rt.settings))) as s:
        vid = (
            IngestService(s, rt.storage)
            .ingest_file(source, programme="时代风采", title="乡村振兴 第3集")
            .version.id
        )
    page.reload()
    tile = page.locator("[data-testid=episode-tile]").first
    assert "乡村振兴 第3集" in tile.inner_text()
    shot(page, "catalogue-processing")
    # The page follows progress by itself and shows the poster when ready.
    page.wait_for_selector("img[src$='/poster']", timeout=90_000)
    wait_for_state(rt, vid, {"ready"}, timeout=5)
    poster_ok = page.eval_on_selector(
        "img[src$='/poster']", "img => img.complete && img.naturalWidth > 0"
    )
    assert poster_ok
    assert "待送审" in page.locator("[data-testid=episode-tile]").first.inner_text()
    shot(page, "catalogue-ready")

    page.click("[data-testid=episode-tile]")
    page.wait_for_selector("[data-testid=player]")
    page.eval_on_selector("[data-testid=player]", "v => { v.muted = true; return v.play(); }")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=player]').currentTime > 0.5", timeout=20_000
    )
    assert page.eval_on_selector("[data-testid=player]", "v => v.videoHeight") == 360
    assert page.locator("[data-testid=version-state]").inner_text() == "待送审"
    shot(page, "episode-playing")
    del unique_copy
