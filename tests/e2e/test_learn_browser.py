"""A learner on a phone-sized Chromium (390×844) signs in with their phone number, finds a
film in the portal, watches part of it, comes back to where they stopped, watches it to the
end through hls.js, with subtitles; the study record says completed, seconds ≈ the film.
On local storage and on S3 (moto over HTTP, with the bucket's CORS rule)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from mam.models.learning import StudyRecord
from mam.runtime import Runtime
from tests import media
from tests.e2e.conftest import shot
from tests.web.learning_site import LEARNER1, hls_runtime, publish_film
from tests.web.tus_helpers import serving
from web import create_app

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SECONDS = 9.0  # two segments (6 s + 3 s)
PHONE = {"width": 390, "height": 844}
VTT = "WEBVTT\n\n00:00:00.500 --> 00:00:08.000\n同志们好，今天学习党课第一讲。\n"


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, home: Path) -> Iterator[Runtime]:
    runtime = hls_runtime(request, home)
    yield runtime
    runtime.close()


def test_a_learner_watches_a_film_to_the_end_on_a_phone(
    backend: Runtime,
    browser,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    runtime = backend
    film = media.make_clip(tmp_path / "党课 第1讲.mp4", seconds=SECONDS, size="640x360")
    publish_film(runtime, film, "党课 第1讲", vtt=VTT)
    context = browser.new_context(
        locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    player = "[data-testid=learn-player]"
    try:
        with serving(create_app(runtime=runtime)) as url:
            page.goto(url + "/login")
            page.fill("input[name=username]", LEARNER1[0])
            page.fill("input[name=password]", LEARNER1[1])
            page.click("[data-testid=login-submit]")
            page.wait_for_url(url + "/learn/")
            # Phone layout: nothing wider than the screen.
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            assert page.locator("[data-testid=learn-film]").count() == 1
            assert page.locator("[data-testid=learn-poster]").count() == 1
            shot(page, f"learn-portal-phone-{runtime.settings.storage_backend}")
            page.click("[data-testid=learn-film] a")
            page.wait_for_selector(f"{player}[data-levels='1']", timeout=20_000)
            assert page.get_attribute(player, "data-engine") == "hls.js"
            # The subtitles are a text track of the player: hls.js reads the master's
            # WebVTT rendition (the page's <track> is only for a page without script).
            page.wait_for_selector(f"{player}[data-subtitle-tracks='1']", timeout=20_000)
            track = page.eval_on_selector(
                player, "v => ({n: v.textTracks.length, label: v.textTracks[0].label})"
            )
            assert track == {"n": 1, "label": "中文"}
            # Watch the first 4 s, stop: the position is kept.
            page.eval_on_selector(player, "v => { v.muted = true; v.play(); }")
            page.wait_for_function(
                f"() => document.querySelector('{player}').currentTime > 4", timeout=30_000
            )
            page.eval_on_selector(player, "v => v.pause()")
            page.wait_for_function(
                f"() => Number(document.querySelector('{player}').dataset.watched) > 3",
                timeout=10_000,
            )
            # Back later: the player starts where the learner stopped.
            page.reload()
            assert page.locator("[data-testid=learn-resume]").count() == 1
            start = float(page.get_attribute(player, "data-start") or 0)
            assert 4 <= start < SECONDS
            page.wait_for_selector(f"{player}[data-levels='1']", timeout=20_000)
            page.eval_on_selector(player, "v => { v.muted = true; v.play(); }")
            page.wait_for_function(
                f"() => document.querySelector('{player}').currentTime >= {start}",
                timeout=10_000,
            )
            page.wait_for_function(
                f"() => document.querySelector('{player}').dataset.completed === 'true'",
                timeout=40_000,
            )
            assert page.is_visible("[data-testid=learn-completed]")
            error = page.eval_on_selector(player, "v => v.dataset.error || null")
            assert error is None
            shot(page, f"learn-player-phone-{runtime.settings.storage_backend}")
            page.click("[data-testid=learn-nav-records]")
            page.wait_for_selector("[data-testid=learn-record-done]", timeout=10_000)
            total = page.text_content("[data-testid=learn-total]") or ""
            assert "0:00:00" not in total and "已完成影片：1 部" in total
            shot(page, f"learn-records-phone-{runtime.settings.storage_backend}")
    finally:
        context.close()
    with runtime.db.session() as s:
        record = s.scalars(select(StudyRecord)).one()
        assert record.completed
        assert record.duration == pytest.approx(SECONDS, abs=0.1)
        assert record.watched_seconds == pytest.approx(SECONDS, abs=1.0)
