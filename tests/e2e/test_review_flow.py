"""In Chromium: submit, comment at 00:00:05:10, request changes, resubmit v2, sign 初审 and 终审."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mam.models import Programme, Role, User, Version
from mam.services.ingest import IngestService
from mam.services.review import ReviewService
from mam.services.users import UserService
from tests import media
from tests.conftest import unique_copy
from tests.e2e.conftest import PASSWORD, LiveSystem, shot
from tests.workerproc import wait_for_state
from workers.celery_app import make_celery
from workers.dispatch import CeleryQueue

pytestmark = [pytest.mark.slow, pytest.mark.browser]
TITLE = "乡村振兴 第5集"


def sign_in(browser: Any, url: str, username: str) -> Any:
    """Open a browser context of its own for ``username`` and sign in."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(url + "/")
    return page


def ingest(live: LiveSystem, source: Path) -> int:
    rt = live.runtime
    with rt.db.session(queue=CeleryQueue(make_celery(rt.settings))) as s:
        producer = UserService(s).by_username("producer")
        vid = (
            IngestService(s, rt.storage)
            .ingest_file(source, programme="时代风采", title=TITLE, uploader=producer)
            .version.id
        )
        programme = s.get_one(Version, vid).episode.programme
        if programme.producer_id is None:  # the admin made the producer responsible for it
            programme.producer_id = producer.id  # type: ignore[union-attr]
            s.commit()
    wait_for_state(rt, vid, {"ready"}, timeout=120)
    return vid


def state(page: Any) -> str:
    return str(page.get_attribute("[data-testid=version-state]", "data-state"))


def timecode(page: Any) -> str:
    return str(page.inner_text("[data-testid=timecode]"))


def test_review_flow_in_the_browser(live_system: LiveSystem, browser: Any, tmp_path: Path) -> None:
    url, rt = live_system.url, live_system.runtime
    with rt.db.session() as s:
        users = UserService(s)
        users.create("reviewer1", PASSWORD, [Role.REVIEWER], display_name="李审片（初审）")
        users.create("reviewer2", PASSWORD, [Role.REVIEWER], display_name="王审片（终审）")
        review = ReviewService(s)
        review.set_grants(s.get_one(User, users.by_username("reviewer1").id), ["初审"])  # type: ignore[union-attr]
        review.set_grants(s.get_one(User, users.by_username("reviewer2").id), ["终审"])  # type: ignore[union-attr]
    clip = media.make_clip(tmp_path / "v1.mp4", seconds=7, size="320x240")
    v1 = ingest(live_system, clip)

    # The producer finds the episode and submits version 1.
    producer = sign_in(browser, url, "producer")
    producer.click(f"[data-testid=episode-tile]:has-text('{TITLE}')")
    producer.click("[data-testid=open-review]")
    producer.wait_for_selector("[data-testid=submit-review]")
    assert producer.locator("[data-testid=sign]").count() == 0
    producer.click("[data-testid=submit-review]")
    producer.wait_for_selector("[data-testid=version-state][data-state=in_review]")

    # Reviewer A sees it in the inbox, comments at 00:00:05:10 and requests changes.
    a = sign_in(browser, url, "reviewer1")
    assert a.inner_text("[data-testid=inbox-count]") == "1"
    a.click("[data-testid=nav-inbox]")
    a.click(f"[data-testid=to-review] a:has-text('{TITLE}')")
    a.wait_for_selector("[data-testid=player]")  # the review page, not the inbox still
    a.wait_for_function("() => document.querySelector('[data-testid=player]').readyState >= 1")
    assert a.locator("[data-testid=sign]").inner_text().strip() == "Sign 初审" or (
        "初审" in a.locator("[data-testid=sign]").inner_text()
    )
    a.wait_for_function("() => window.mamReview !== undefined")  # review.js is deferred
    a.evaluate("() => window.mamReview.seekFrame(134)")
    a.wait_for_function(
        "() => document.querySelector('[data-testid=timecode]').textContent === '00:00:05:09'"
    )
    a.keyboard.press("ArrowRight")  # one frame on
    a.wait_for_function(
        "() => document.querySelector('[data-testid=timecode]').textContent === '00:00:05:10'"
    )
    a.keyboard.press("ArrowLeft")
    a.wait_for_function(
        "() => document.querySelector('[data-testid=timecode]').textContent === '00:00:05:09'"
    )
    a.click("[data-testid=frame-forward]")
    a.wait_for_function(
        "() => document.querySelector('[data-testid=timecode]').textContent === '00:00:05:10'"
    )
    a.click("[data-testid=mark-in]")
    assert a.input_value("[data-testid=start-tc]") == "00:00:05:10"
    a.fill("[data-testid=comment-body]", "字幕“乡村振兴”有错别字，请<b>修改</b>")
    a.click("[data-testid=add-comment]")
    a.wait_for_selector("[data-testid=comment]")
    assert a.inner_text("[data-testid=comment-tc]") == "00:00:05:10"
    assert "请<b>修改</b>" in a.inner_text("[data-testid=comment-body-text]")  # shown as text
    assert a.locator("[data-testid=comment-marker]").count() == 1
    # L plays, K pauses; clicking the comment brings the player back to its frame.
    a.wait_for_function("() => document.querySelector('[data-testid=player]').readyState >= 2")
    a.evaluate(
        "() => { const v = document.querySelector('[data-testid=player]'); v.muted = true; }"
    )
    a.evaluate("() => window.mamReview.seekFrame(0)")
    a.keyboard.press("l")
    a.wait_for_function("() => document.querySelector('[data-testid=player]').currentTime > 0.3")
    a.keyboard.press("k")
    assert a.evaluate("() => document.querySelector('[data-testid=player]').paused")
    a.click("[data-testid=comment-tc]")
    a.wait_for_function(
        "() => document.querySelector('[data-testid=timecode]').textContent === '00:00:05:10'"
    )
    shot(a, "review-comment-at-00-00-05-10")
    a.fill("[data-testid=reason]", "见 00:00:05:10 的批注：字幕有错别字")
    a.click("[data-testid=request-changes]")
    a.wait_for_selector("[data-testid=version-state][data-state=changes_requested]")
    assert a.locator("[data-testid=sign]").count() == 0

    # The producer sees the request, uploads version 2 and submits it.
    producer.reload()
    assert state(producer) == "changes_requested"
    assert "字幕有错别字" in producer.inner_text("[data-testid=rejection]")
    v2 = ingest(live_system, unique_copy(clip, tmp_path / "v2.mp4"))
    producer.goto(f"{url}/review/versions/{v2}")
    producer.click("[data-testid=submit-review]")
    producer.wait_for_selector("[data-testid=version-state][data-state=in_review]")
    with rt.db.session() as s:
        assert s.get_one(Version, v1).state.value == "superseded"

    # Reviewer A signs 初审; reviewer B signs 终审, which approves it.
    a.goto(f"{url}/review/versions/{v2}")
    a.click("[data-testid=sign]")
    a.wait_for_selector("[data-testid=stage][data-stage=初审][data-signed=true]")
    assert a.locator("[data-testid=sign]").count() == 0  # nobody signs two stages
    b = sign_in(browser, url, "reviewer2")
    b.goto(f"{url}/review/versions/{v2}")
    assert "终审" in b.inner_text("[data-testid=sign]")
    b.click("[data-testid=sign]")
    b.wait_for_selector("[data-testid=version-state][data-state=approved]")
    b.wait_for_selector("[data-testid=stage][data-signed=true] >> nth=1")  # the page settled
    assert b.locator("[data-testid=stage][data-signed=true]").count() == 2
    shot(b, "review-approved")
    with rt.db.session() as s:
        version = s.get_one(Version, v2)
        assert version.state.value == "approved"
        assert {d.sha256 for d in ReviewService(s).signatures(version)} == {version.sha256}
        assert s.get_one(Programme, version.episode.programme_id).producer is not None
    for p in (producer, a, b):
        p.context.close()
