"""The episode page's HLS player (hls.js over the app's playlists) plays in Chromium,
on local storage and on S3 (moto over HTTP, with the bucket's CORS rule of docker/README)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mam.models import Role, Version
from mam.runtime import Runtime
from mam.services.users import UserService
from tests import media
from tests.e2e.conftest import PASSWORD, shot
from tests.web.conftest import process_now
from tests.web.learning_site import hls_runtime
from tests.web.tus_helpers import serving
from web import create_app

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, home: Path) -> Iterator[Runtime]:
    runtime = hls_runtime(request, home)
    yield runtime
    runtime.close()


def test_the_episode_pages_hls_player_plays(
    backend: Runtime,
    page,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    runtime = backend
    with runtime.db.session() as s:
        UserService(s).create("reviewer", PASSWORD, [Role.REVIEWER], display_name="李审片")
    film = media.make_clip(tmp_path / "网课 第2讲.mp4", seconds=14, size="640x360")
    vid = process_now(runtime, film, title="网课 第2讲")
    with runtime.db.session() as s:
        episode = s.get_one(Version, vid).episode_id
    with serving(create_app(runtime=runtime)) as url:
        page.goto(url + "/login")
        page.fill("input[name=username]", "reviewer")
        page.fill("input[name=password]", PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(url + "/")
        page.goto(f"{url}/episodes/{episode}")
        player = page.locator("[data-testid=hls-player]")
        assert player.get_attribute("data-engine") == "hls.js"
        page.wait_for_selector("[data-testid=hls-player][data-levels='1']", timeout=20_000)
        player.scroll_into_view_if_needed()
        page.eval_on_selector("[data-testid=hls-player]", "v => { v.muted = true; v.play(); }")
        # It plays: time advances past the first 6 s segment into the second.
        page.wait_for_function(
            "() => document.querySelector('[data-testid=hls-player]').currentTime > 7",
            timeout=30_000,
        )
        state = page.eval_on_selector(
            "[data-testid=hls-player]",
            "v => ({error: v.dataset.error || null, duration: v.duration, width: v.videoWidth})",
        )
        assert state["error"] is None
        assert state["duration"] == pytest.approx(14.0, abs=0.2)
        assert state["width"] == 640
        shot(page, f"episode-hls-player-{runtime.settings.storage_backend}")
