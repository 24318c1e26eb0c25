"""In Chromium, a producer's first hour: upload into a new programme, wait, submit (送审)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from mam.models import Programme, User, Version, VersionState
from tests.conftest import unique_copy
from tests.e2e.conftest import PASSWORD, LiveSystem, shot
from tests.workerproc import wait_for_state

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_upload_into_a_new_programme_then_submit_it(
    live_system: LiveSystem,
    page,  # type: ignore[no-untyped-def]
    clip: Path,
    tmp_path: Path,
) -> None:
    url, rt = live_system.url, live_system.runtime
    film = unique_copy(clip, tmp_path / "支部书记谈党建.mp4")
    page.goto(url + "/login")
    page.fill("input[name=username]", "producer")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(url + "/")

    page.goto(url + "/upload")
    page.fill("[data-testid=programme]", "党建引领")  # a programme that does not exist yet
    page.set_input_files("[data-testid=file-input]", [str(film)])
    # the file name is proposed as the title; nothing is sent before 开始上传
    page.locator("[data-testid=upload-row]").first.locator("[data-testid=start]").click()
    page.wait_for_selector("[data-testid=episode-link]", timeout=60_000)
    with rt.db.session() as s:
        version = s.scalars(select(Version)).one()
        vid = version.id
        programme = s.scalars(select(Programme).where(Programme.name == "党建引领")).one()
        producer = s.scalars(select(User).where(User.username == "producer")).one()
        assert programme.producer_id == producer.id  # the creator is responsible for it
    wait_for_state(rt, vid, {"ready"}, timeout=180)

    page.goto(url + "/inbox")
    page.wait_for_selector("[data-testid=to-submit]")
    assert "支部书记谈党建" in page.inner_text("[data-testid=to-submit]")

    page.goto(url + f"/review/versions/{vid}")
    button = page.locator("[data-testid=submit-review]")
    assert button.count() == 1 and button.inner_text().strip() == "送审"
    assert page.locator("[data-testid=submit-blocked]").count() == 0
    shot(page, "first-hour-submit")
    button.click()  # sent by fetch; the page reloads once the server has said yes
    page.wait_for_selector("[data-testid=submit-review]", state="detached")
    page.wait_for_selector("[data-testid=stage][data-stage=初审]")
    with rt.db.session() as s:
        assert s.get_one(Version, vid).state is VersionState.IN_REVIEW
