"""In Chromium: comments are added, answered, resolved and reopened while the film plays on;
a refused decision says why next to its button. The page is never reloaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mam.services.review import ReviewService
from mam.services.users import UserService
from tests import media
from tests.e2e.conftest import LiveSystem, shot
from tests.e2e.test_review_flow import ingest, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]
PLAYER = "document.querySelector('[data-testid=player]')"


def playing_at(page: Any) -> float:
    """Return the playhead (seconds) after checking that the film is still playing."""
    assert page.evaluate(f"() => !{PLAYER}.paused"), "the player stopped"
    return float(page.evaluate(f"() => {PLAYER}.currentTime"))


def same_page(page: Any) -> bool:
    return bool(page.evaluate("() => window.__notReloaded === true"))


def test_comments_keep_the_player_going_and_the_page_in_place(
    live_system: LiveSystem, browser: Any, tmp_path: Path
) -> None:
    url, rt = live_system.url, live_system.runtime
    vid = ingest(live_system, media.make_clip(tmp_path / "批注.mp4", seconds=30, size="320x240"))
    with rt.db.session() as s:
        users = UserService(s)
        review = ReviewService(s)
        review.set_grants(users.by_username("reviewer"), ["初审"])  # type: ignore[arg-type]
        review.submit(vid, users.by_username("producer"))  # type: ignore[arg-type]
    page = sign_in(browser, url, "reviewer")
    page.goto(f"{url}/review/versions/{vid}")
    page.wait_for_function(f"() => {PLAYER}.readyState >= 2")
    page.evaluate("() => { window.__notReloaded = true; }")
    page.evaluate(f"() => {{ {PLAYER}.muted = true; window.mamReview.seekFrame(50); }}")
    page.evaluate(f"() => {PLAYER}.play()")
    page.wait_for_function(f"() => {PLAYER}.currentTime > 2.3")

    # A note at the playhead while the film plays.
    page.click("[data-testid=mark-in]")
    mark = page.input_value("[data-testid=start-tc]")
    page.fill("[data-testid=comment-body]", "这里的字幕<b>太小</b>")
    before = playing_at(page)
    page.click("[data-testid=add-comment]")
    page.wait_for_selector("[data-testid=comment]")
    assert same_page(page)
    assert playing_at(page) >= before  # neither paused nor sent back to 00:00:00:00
    assert page.inner_text("[data-testid=comment-tc]") == mark
    assert page.inner_text("[data-testid=comment-body-text]") == "这里的字幕<b>太小</b>"
    assert page.locator("[data-testid=comment-marker]").count() == 1
    assert page.input_value("[data-testid=comment-body]") == ""  # ready for the next note
    assert page.inner_text("[data-testid=thread-count]") == "1 条批注"

    # Reply, resolve, reopen: the same thread changes in place.
    thread = page.locator("[data-testid=comment]").first
    thread.locator("[data-testid=reply-body]").fill("已改大一号")
    before = playing_at(page)
    thread.locator("[data-testid=reply]").click()
    page.wait_for_selector("[data-testid=comment] .reply:has-text('已改大一号')")
    assert same_page(page) and playing_at(page) >= before
    page.locator("[data-testid=comment] [data-testid=resolve]").click()
    page.wait_for_selector("[data-testid=comment][data-resolved=true]")
    assert page.locator("[data-testid=comment-marker].resolved").count() == 1
    page.locator("[data-testid=comment] [data-testid=reopen]").click()
    page.wait_for_selector("[data-testid=comment][data-resolved=false]")
    assert same_page(page) and playing_at(page) >= before
    shot(page, "review-comments-without-reload")

    # A second note lands on the timeline as well; a reply being typed is not lost.
    page.locator("[data-testid=comment] [data-testid=reply-body]").fill("还没写完")
    page.fill("[data-testid=start-tc]", "00:00:20:00")
    page.fill("[data-testid=comment-body]", "结尾音乐太响")
    page.click("[data-testid=add-comment]")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=comment]').length === 2")
    assert page.locator("[data-testid=comment-marker]").count() == 2
    assert page.locator("[data-testid=reply-body]").first.input_value() == "还没写完"
    assert same_page(page)

    # A refused decision: the reason is shown by its button, the film plays on.
    page.fill("[data-testid=reason]", "   ")  # only spaces: no reason at all
    before = playing_at(page)
    page.click("[data-testid=request-changes]")
    error = page.wait_for_selector("[data-testid=action-error]")
    assert error.inner_text() == "请填写理由。"
    assert same_page(page) and playing_at(page) >= before
    assert page.get_attribute("[data-testid=version-state]", "data-state") == "in_review"
    page.context.close()
