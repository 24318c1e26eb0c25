"""In Chromium: a file already in the library ends at once, in Chinese, with a link to the
version that has it; with the page's fingerprint it is refused before any byte is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mam.models import Version
from mam.services.fingerprints import SAMPLE
from mam.services.ingest import IngestService
from tests.e2e.conftest import LiveSystem, shot
from tests.e2e.test_upload_browser import login
from tests.web.tus_helpers import padded_copy

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SIZE = 2 * SAMPLE + 400_000  # the middle is in neither 4 MiB sample
NO_WEBCRYPTO = "Object.defineProperty(Crypto.prototype, 'subtle', { get: () => undefined })"


def in_library(live: LiveSystem, path: Path) -> tuple[int, int]:
    rt = live.runtime
    with rt.db.session() as s:  # not enqueued: processing plays no part here
        v = IngestService(s, rt.storage).ingest_file(path, programme="时代风采", title="原片")
        return v.version.id, v.version.episode_id


def requests_to_upload(page: Any) -> list[str]:
    seen: list[str] = []
    page.on(
        "request",
        lambda r: seen.append(r.method) if "/upload/files" in r.url else None,
    )
    return seen


def versions(live: LiveSystem) -> int:
    with live.runtime.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Version)) or 0)


def pick_and_start(page: Any, url: str, path: Path, title: str) -> Any:
    page.goto(url + "/upload")
    # The producer's own new programme: the library copy sits in 时代风采, which has no
    # responsible producer (ingested by the system), where a producer may not add episodes.
    page.fill("[data-testid=programme]", "党建引领")
    page.set_input_files("[data-testid=file-input]", str(path))
    row = page.locator("[data-testid=upload-row]").first
    row.locator("[data-testid=title]").fill(title)
    row.locator("[data-testid=start]").click()
    return row


def test_a_duplicate_found_after_the_transfer_ends_at_once(
    live_system: LiveSystem, page: Any, clip: Path, tmp_path: Path
) -> None:
    film = padded_copy(clip, tmp_path / "母版.mp4", seed=11, total=SIZE)
    _, episode = in_library(live_system, film)
    page.add_init_script(NO_WEBCRYPTO)  # plain http on a LAN address: no fingerprint
    login(page, live_system.url)
    page.evaluate("localStorage.setItem('mam.uploadChunkSize', String(4 * 1024 * 1024))")
    seen = requests_to_upload(page)
    row = pick_and_start(page, live_system.url, film, "再传一遍")
    retrying = page.locator("#upload-form").get_attribute("data-msg-retrying")
    page.wait_for_selector("[data-testid=upload-row][data-state=duplicate]", timeout=20_000)
    status = row.locator("[data-testid=upload-status]").inner_text()
    assert "库中已有完全相同的内容" in status and "《时代风采》原片 第 1 版" in status
    assert retrying not in status
    link = row.locator("[data-testid=duplicate-link]")
    assert link.get_attribute("href") == f"/episodes/{episode}#version-1"
    assert row.locator(".progress").count() == 0  # no bar left at 100 %
    assert row.locator("[data-testid=upload-anyway]").count() == 0  # the SHA-256 is final
    page.wait_for_timeout(3000)  # nothing is sent again
    assert seen.count("POST") == 1
    assert seen.count("PATCH") == 3  # the file once, in its three chunks
    assert versions(live_system) == 1
    shot(page, "upload-duplicate-after-transfer")
    link.click()
    page.wait_for_selector("#version-1")


@pytest.mark.parametrize("size", [SIZE, SAMPLE + 1000], ids=["ends-apart", "ends-overlap"])
def test_the_fingerprint_refuses_a_duplicate_before_the_transfer(
    live_system: LiveSystem, page: Any, clip: Path, tmp_path: Path, size: int
) -> None:
    film = padded_copy(clip, tmp_path / "母版.mp4", seed=12, total=size)
    _, episode = in_library(live_system, film)
    login(page, live_system.url)
    seen = requests_to_upload(page)
    row = pick_and_start(page, live_system.url, film, "再传一遍")
    page.wait_for_selector("[data-testid=upload-row][data-state=duplicate]", timeout=10_000)
    status = row.locator("[data-testid=upload-status]").inner_text()
    assert "与库中已有的《时代风采》原片 第 1 版相同" in status
    href = row.locator("[data-testid=duplicate-link]").get_attribute("href")
    assert href == f"/episodes/{episode}#version-1"
    assert seen == ["POST"]  # not one byte of the file was sent
    assert row.locator(".progress").count() == 0
    shot(page, "upload-duplicate-by-fingerprint")
    # "Not the same file?": sent anyway, the full SHA-256 has the last word.
    row.locator("[data-testid=upload-anyway]").click()
    page.wait_for_selector("[data-testid=upload-row][data-state=duplicate]", timeout=20_000)
    assert "库中已有完全相同的内容" in row.locator("[data-testid=upload-status]").inner_text()
    assert versions(live_system) == 1


def test_a_file_differing_only_in_the_middle_is_sent_when_the_producer_says_so(
    live_system: LiveSystem, page: Any, clip: Path, tmp_path: Path
) -> None:
    film = padded_copy(clip, tmp_path / "母版.mp4", seed=13, total=SIZE)
    in_library(live_system, film)
    data = bytearray(film.read_bytes())
    data[SIZE // 2] ^= 0xFF
    recut = tmp_path / "调色版.mp4"
    recut.write_bytes(bytes(data))
    login(page, live_system.url)
    row = pick_and_start(page, live_system.url, recut, "调色版")
    page.wait_for_selector("[data-testid=upload-row][data-state=duplicate]", timeout=10_000)
    row.locator("[data-testid=upload-anyway]").click()
    page.wait_for_selector("[data-testid=episode-link]", timeout=30_000)
    assert versions(live_system) == 2
