"""In Chromium: drop files on the upload page; a cut network and a page reload resume."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mam.models import Version
from mam.models.catalogue import UploadSession, UploadState
from tests.conftest import unique_copy
from tests.e2e.conftest import PASSWORD, LiveSystem, shot
from tests.workerproc import wait_for_state

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def login(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/login")
    page.fill("input[name=username]", "producer")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(url + "/")


def test_upload_page_uploads_media_and_refuses_other_files(
    live_system: LiveSystem,
    page,  # type: ignore[no-untyped-def]
    clip: Path,
    tmp_path: Path,
) -> None:
    film = unique_copy(clip, tmp_path / "党建课堂 第1集.mp4")
    note = tmp_path / "说明.txt"
    note.write_text("不是视频", encoding="utf-8")
    login(page, live_system.url)
    page.goto(live_system.url + "/upload")
    page.fill("[data-testid=programme]", "时代风采")
    page.check("input[name=topics][value=党的建设]")
    page.fill("input[name=keywords]", "党建，基层")
    page.set_input_files("[data-testid=file-input]", [str(film), str(note)])
    rows = page.locator("[data-testid=upload-row]")
    assert rows.count() == 2
    refused = rows.nth(1)
    assert "说明.txt" in refused.inner_text()
    not_media = page.locator("#upload-form").get_attribute("data-msg-not-media")
    assert not_media and refused.locator("[data-testid=upload-status]").inner_text() == not_media
    assert refused.get_attribute("data-state") == "refused"
    rows.nth(0).locator("[data-testid=start]").click()
    page.wait_for_selector("[data-testid=episode-link]", timeout=30_000)
    assert rows.nth(0).get_attribute("data-state") == "done"
    shot(page, "upload-done")
    page.click("[data-testid=episode-link]")
    assert page.locator("[data-testid=episode-title]").inner_text() == "党建课堂 第1集"
    rt = live_system.runtime
    with rt.db.session() as s:
        version = s.scalars(select(Version)).one()
        assert version.sha256 == hashlib.sha256(film.read_bytes()).hexdigest()
        vid = version.id
    wait_for_state(rt, vid, {"ready"}, timeout=120)


def test_upload_resumes_after_network_cut_and_reload(
    live_system: LiveSystem,
    page,  # type: ignore[no-untyped-def]
    clip: Path,
    tmp_path: Path,
) -> None:
    film = unique_copy(clip, tmp_path / "长片.mp4")
    with film.open("ab") as fh:  # some padding so there are several chunks
        fh.write(random.Random(3).randbytes(600_000))  # noqa: S311
    data = film.read_bytes()
    login(page, live_system.url)
    page.goto(live_system.url + "/upload")
    page.evaluate("localStorage.setItem('mam.uploadChunkSize', String(64 * 1024))")
    passed = []

    def cut_after_two(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.method == "PATCH":
            if len(passed) >= 2:
                route.abort("connectionreset")
                return
            passed.append(route.request.url)
        route.continue_()

    page.route("**/upload/files/*", cut_after_two)
    page.fill("[data-testid=programme]", "时代风采")
    page.set_input_files("[data-testid=file-input]", str(film))
    page.click("[data-testid=start]")
    retrying = page.locator("#upload-form").get_attribute("data-msg-retrying")
    page.wait_for_function(
        "t => document.querySelector('[data-testid=upload-status]').innerText === t",
        arg=retrying,
        timeout=20_000,
    )
    rt = live_system.runtime
    with rt.db.session() as s:
        upload = s.scalars(select(UploadSession)).one()
        assert upload.offset == 2 * 64 * 1024 and upload.state is UploadState.OPEN
    page.unroute("**/upload/files/*")

    page.reload()  # the browser forgets the file; the user adds it again
    assert "长片.mp4" in page.locator("[data-testid=unfinished]").inner_text()
    page.fill("[data-testid=programme]", "时代风采")
    page.set_input_files("[data-testid=file-input]", str(film))  # resumes by itself
    page.wait_for_selector("[data-testid=episode-link]", timeout=30_000)
    assert page.locator("[data-testid=unfinished]").count() == 0  # finished: off the list
    shot(page, "upload-resumed")
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(UploadSession)) == 1  # same upload
        upload = s.scalars(select(UploadSession)).one()
        assert upload.state is UploadState.DONE
        version = s.get(Version, upload.version_id)
        assert version is not None
        assert version.sha256 == hashlib.sha256(data).hexdigest()
