"""In Chromium: a county downloads its package, verifies it, confirms receipt; the
publisher's coverage table shows it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mam.models import County, Role
from mam.models.release import PackageKind
from mam.services.packaging import PackageBuilder
from mam.services.releases import ReleaseService
from mam.services.users import UserService
from tests.e2e.conftest import PASSWORD, LiveSystem, shot
from tests.mam.test_releases import approved_version

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def login(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_load_state()


def test_county_downloads_and_confirms_receipt(
    live_system: LiveSystem,
    page,
    clip: Path,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    rt = live_system.runtime
    with rt.db.session() as s:
        users = UserService(s)
        county = users.ensure_county("xian-a", "甲县")
        county.villages = 12
        s.commit()
        users.create("publisher", PASSWORD, [Role.PUBLISHER], display_name="赵发布")
        users.create(
            "xian", PASSWORD, [Role.COUNTY], county_code="xian-a", display_name="甲县电教中心"
        )
        publisher = users.by_username("publisher")
        svc = ReleaseService(s)
        release = svc.create("2026年第12期", publisher, notes="十二月供片")
        svc.add_version(release, approved_version(s, rt, clip, "乡村振兴 第1集").id, publisher)
        svc.set_targets(release, [s.get_one(County, county.id).id], publisher)
        packages = svc.publish(release, publisher)
        tv = next(p for p in packages if p.kind == PackageKind.TV)
        PackageBuilder(s, rt.storage, tmp_path / "work").build(tv.id)
        rid, digest = release.id, tv.sha256

    login(page, live_system.url, "xian")
    assert page.url.endswith("/county/")
    assert "2026年第12期" in page.inner_text("main")
    shot(page, "county-portal")
    with page.expect_download() as info:
        page.click("[data-testid=download-tv]")
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.name == "2026年第12期-tv.zip"
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == digest
    assert digest in page.inner_text("main")  # the page shows the checksum to compare
    page.click("[data-testid=confirm-receipt]")
    page.wait_for_selector("[data-testid=receipt-done]")
    shot(page, "county-receipt-confirmed")

    page.context.clear_cookies()
    login(page, live_system.url, "publisher")
    page.goto(f"{live_system.url}/releases/{rid}")
    row = page.locator("[data-testid=coverage] tr[data-county=xian-a]")
    text = row.inner_text()
    assert "甲县" in text and "是" in text and "4" in text  # downloaded; 12 villages / 3
    assert "尚未" not in text
    shot(page, "publisher-coverage")
