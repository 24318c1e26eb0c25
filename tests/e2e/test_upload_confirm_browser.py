"""In Chromium: a picked file waits for the producer; the title stays editable until then."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mam.models import Version
from mam.models.catalogue import EpisodeDetail, UploadSession
from tests.conftest import unique_copy
from tests.e2e.conftest import LiveSystem, shot
from tests.e2e.test_upload_browser import login

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def uploads(live: LiveSystem) -> int:
    with live.runtime.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(UploadSession)) or 0)


def test_title_stays_editable_and_nothing_starts_before_confirming(
    live_system: LiveSystem, page: Any, clip: Path, tmp_path: Path
) -> None:
    film = unique_copy(clip, tmp_path / "DSC_0042.mp4")
    login(page, live_system.url)
    page.goto(live_system.url + "/upload")
    page.fill("[data-testid=programme]", "时代风采")  # the programme first, then the file
    page.set_input_files("[data-testid=file-input]", str(film))
    row = page.locator("[data-testid=upload-row]").first
    title = row.locator("[data-testid=title]")
    assert title.input_value() == "DSC_0042"  # the file name is only a proposal
    page.wait_for_timeout(1500)
    assert title.is_editable()
    assert row.get_attribute("data-state") == "ready"
    assert uploads(live_system) == 0  # nothing was sent
    shot(page, "upload-waits-for-confirmation")

    title.fill("乡村振兴 第2集")
    page.fill("input[name=keywords]", "乡村振兴，产业")  # typed after the file was picked
    row.locator("[data-testid=start]").click()
    page.wait_for_selector("[data-testid=episode-link]", timeout=30_000)
    assert not title.is_editable()  # what was sent is what it shows
    with live_system.runtime.db.session() as s:
        version = s.scalars(select(Version)).one()
        assert version.episode.title == "乡村振兴 第2集"
        detail = s.get(EpisodeDetail, version.episode_id)
        assert detail is not None and detail.keywords == ["乡村振兴", "产业"]


def test_start_without_a_programme_says_what_is_missing(
    live_system: LiveSystem, page: Any, clip: Path, tmp_path: Path
) -> None:
    film = unique_copy(clip, tmp_path / "无栏目.mp4")
    login(page, live_system.url)
    page.goto(live_system.url + "/upload")
    page.set_input_files("[data-testid=file-input]", str(film))
    row = page.locator("[data-testid=upload-row]").first
    row.locator("[data-testid=start]").click()
    need = page.locator("#upload-form").get_attribute("data-msg-need-title")
    assert row.locator("[data-testid=upload-status]").inner_text() == need
    assert row.locator("[data-testid=title]").is_editable()
    assert uploads(live_system) == 0
    page.fill("[data-testid=programme]", "时代风采")
    row.locator("[data-testid=start]").click()
    page.wait_for_selector("[data-testid=episode-link]", timeout=30_000)
    with live_system.runtime.db.session() as s:
        assert s.scalars(select(Version)).one().episode.title == "无栏目"


def test_start_all_sends_every_waiting_file_with_its_own_title(
    live_system: LiveSystem, page: Any, clip: Path, tmp_path: Path
) -> None:
    films = [unique_copy(clip, tmp_path / f"素材{n}.mp4") for n in (1, 2)]
    login(page, live_system.url)
    page.goto(live_system.url + "/upload")
    page.fill("[data-testid=programme]", "时代风采")
    page.set_input_files("[data-testid=file-input]", [str(f) for f in films])
    start_all = page.locator("[data-testid=start-all]")
    start_all.wait_for(state="visible")
    page.locator("[data-testid=title]").nth(1).fill("第二集")
    start_all.click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=episode-link]').length === 2",
        timeout=30_000,
    )
    assert start_all.is_hidden()
    with live_system.runtime.db.session() as s:
        titles = {v.episode.title for v in s.scalars(select(Version))}
    assert titles == {"素材1", "第二集"}
