"""Subtitles in both players, in Chromium (issue #14 item 2): the review player shows the
version's WebVTT track (its cues, the line at a time); the timed editor beside it splits a
cue at the playhead and saves; a word of a cue found by the search opens the review player
at the cue; the learner's hls.js player lists the master's subtitle rendition and shows
its line while playing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from mam.models import Job, JobKind, JobState, Role, Version, VersionState
from mam.runtime import Runtime
from mam.services.learners import LearnerService
from mam.services.releases import ReleaseService
from mam.services.subtitles import SubtitleService
from mam.services.users import UserService
from tests import media
from tests.e2e.conftest import shot
from tests.web.conftest import PASSWORD, process_now
from tests.web.tus_helpers import serving
from web import create_app
from workers.tasks.chunks import run_ladder

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SECONDS = 8.0
VTT = (
    "WEBVTT\n\n00:00:00.500 --> 00:00:03.000\n同志们好\n\n"
    "00:00:04.000 --> 00:00:07.500\n今天学习基层党建工作\n"
)
LEARNER = ("13800000009", "long password nine")
TEXT_TRACK = """v => { const t = v.textTracks[0];
  const cue = t && t.activeCues && t.activeCues[0];
  return t ? {n: v.textTracks.length, label: t.label, lang: t.language, mode: t.mode,
              cues: t.cues ? t.cues.length : 0, active: cue ? cue.text : null} : null; }"""


def sign_in(page, url: str, username: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_load_state()


def publish(runtime: Runtime, version_id: int) -> None:
    with runtime.db.session() as s:  # the playback copy burns the subtitles added since
        queued = s.scalars(select(Job.id).where(
            Job.version_id == version_id, Job.kind == JobKind.LADDER, Job.state == JobState.QUEUED
        )).all()  # fmt: skip
    for job_id in queued:
        assert run_ladder(runtime, version_id, job_id, "test")[0] == "ready"
    with runtime.db.session() as s:
        users = UserService(s)
        county = users.ensure_county("c1", "甲县")
        staff = users.create("staff1", PASSWORD, [Role.COUNTY], county_code="c1")
        LearnerService(s).create(county.id, "王学员", *LEARNER, staff)
        publisher = users.create("publisher", PASSWORD, [Role.PUBLISHER])
        s.get_one(Version, version_id).state = VersionState.APPROVED  # not the chain under test
        s.commit()
        releases = ReleaseService(s)
        release = releases.create("2026年第12期", publisher)
        releases.add_version(release, version_id, publisher)
        releases.set_targets(release, [county.id], publisher)
        releases.publish(release, publisher)
        s.commit()


def test_subtitles_in_the_review_player_the_editor_search_and_the_learner_player(
    runtime: Runtime,
    browser,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    film = media.make_clip(tmp_path / "党课 第3讲.mp4", seconds=SECONDS, size="320x180")
    with runtime.db.session() as s:
        UserService(s).create("admin", PASSWORD, [Role.ADMIN])
        s.commit()
    vid = process_now(runtime, film, title="党课 第3讲")
    with runtime.db.session() as s:
        version = s.get_one(Version, vid)
        admin = UserService(s).by_username("admin")
        SubtitleService(s, runtime.storage).attach(
            version.episode, VTT.encode(), "字幕.vtt", "zh", admin
        )
        s.commit()
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    player = "#player"
    try:
        with serving(create_app(runtime=runtime)) as url:
            sign_in(page, url, "admin")
            page.goto(f"{url}/review/versions/{vid}")
            page.wait_for_function(
                f"() => {{ const t = document.querySelector('{player}').textTracks[0];"
                " return t && t.cues && t.cues.length === 2; }",
                timeout=20_000,
            )
            page.eval_on_selector(player, "v => { v.currentTime = 5.02; }")
            page.wait_for_function(
                f"() => {{ const t = document.querySelector('{player}').textTracks[0];"
                " return t.activeCues.length === 1; }",
                timeout=10_000,
            )
            seen = page.eval_on_selector(player, TEXT_TRACK)
            assert seen == {"n": 1, "label": "中文", "lang": "zh", "mode": "showing",
                            "cues": 2, "active": "今天学习基层党建工作"}  # fmt: skip
            # The editor: choose the second cue, split it at the playhead (frame 150, 6.0 s).
            rows = "[data-testid=cue-row]"
            page.wait_for_selector(rows)
            assert page.locator(rows).count() == 2
            page.evaluate("window.mamReview.seekFrame(150)")
            page.locator(rows).nth(1).locator("[data-testid=cue-pick]").check()
            page.click("[data-testid=cue-split]")
            page.wait_for_function(
                "() => document.querySelectorAll('[data-testid=cue-row]').length === 3"
            )
            starts = page.eval_on_selector_all(
                "[data-testid=cue-start]", "els => els.map(e => e.value)"
            )
            assert starts == ["00:00:00.500", "00:00:04.000", "00:00:06.000"]
            page.locator(rows).nth(2).locator("[data-testid=cue-text]").fill("党建引领乡村振兴")
            page.click("[data-testid=cue-save]")
            page.wait_for_selector("[data-testid=subtitle-saved]:not([hidden])")
            assert page.text_content("[data-testid=subtitle-saved]") == "字幕已保存（第 1 稿）。"
            page.wait_for_function(
                f"() => {{ const t = document.querySelector('{player}').textTracks;"
                " const last = t[t.length - 1]; return last.cues && last.cues.length === 3; }",
                timeout=10_000,
            )
            # A refusal is shown in Chinese beside the editor, nothing is lost.
            page.locator(rows).nth(0).locator("[data-testid=cue-end]").fill("00:00:05.000")
            page.click("[data-testid=cue-save]")
            page.wait_for_selector("[data-testid=subtitle-error]:not([hidden])")
            assert "第 2 条字幕在第 1 条结束" in (
                page.text_content("[data-testid=subtitle-error]") or ""
            )
            assert page.locator(rows).count() == 3
            shot(page, "subtitle-editor")
            # The search finds the new words in the cue and opens the player there.
            page.goto(f"{url}/search?q=乡村振兴")
            link = page.locator("[data-testid=said-link]")
            assert link.count() == 1 and re.search(r"\?t=6\.000$", link.get_attribute("href") or "")
            link.click()
            page.wait_for_function(
                f"() => {{ const v = document.querySelector('{player}');"
                " return v !== null && Math.abs(v.currentTime - 6.02) < 0.03; }",
                timeout=10_000,
            )
            assert page.text_content("#tc") == "00:00:06:00"
            page.context.clear_cookies()
            # The learner: hls.js lists the master's subtitle rendition and shows its line.
            publish(runtime, vid)
            sign_in(page, url, *LEARNER)
            page.goto(f"{url}/learn/")
            page.click("[data-testid=learn-film] a")
            learn = "[data-testid=learn-player]"
            page.wait_for_selector(f"{learn}[data-subtitle-tracks='1']", timeout=20_000)
            assert page.get_attribute(learn, "data-engine") == "hls.js"
            page.eval_on_selector(learn, "v => { v.muted = true; v.play(); }")
            page.wait_for_function(
                f"() => {{ const t = document.querySelector('{learn}').textTracks[0];"
                " return t && t.activeCues && t.activeCues.length > 0; }",
                timeout=30_000,
            )
            seen = page.eval_on_selector(learn, TEXT_TRACK)
            assert (seen["n"], seen["label"], seen["lang"], seen["mode"]) == (
                1,
                "中文",
                "zh",
                "showing",
            )
            assert seen["cues"] == 3 and seen["active"] in (
                "同志们好",
                "今天学习基层党建工作",
                "党建引领乡村振兴",
            )
            shot(page, "learn-subtitles")
    finally:
        context.close()
