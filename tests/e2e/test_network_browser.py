"""In Chromium on a phone-sized screen (390×844), in Chinese: a township station files its
monthly plan and reports the screening against it, attendance split 党员/群众, with a photo."""

from __future__ import annotations

import io
import shutil
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.serving import make_server

from mam.config import Settings
from mam.models.release import Screening, ScreeningOutcome
from mam.runtime import Runtime
from mam.services.users import hash_password
from tests.conftest import make_settings
from tests.e2e.conftest import PASSWORD, _free_port, shot
from tests.network_world import World, build
from web import create_app

pytestmark = [pytest.mark.slow, pytest.mark.browser]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def settings(home: Path, migrated_sqlite: Path) -> Settings:
    """This site asks for attendance split into party members and masses."""
    shutil.copyfile(migrated_sqlite, home / "mam.db")
    return make_settings(home, screening_party_split=True)


@pytest.fixture
def site(runtime: Runtime) -> Iterator[tuple[str, World]]:
    """The web app on a free port (no worker: nothing here is queued)."""
    with runtime.db.session() as s:
        world = build(s)
        world.township1.password_hash = hash_password(PASSWORD)
        world.township1.display_name = "城关镇电教站"
        s.commit()
        s.expunge_all()
    server = make_server("127.0.0.1", _free_port(), create_app(runtime=runtime), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", world
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def phone(browser: object) -> Iterator[object]:
    context = browser.new_context(  # type: ignore[attr-defined]
        locale="zh-CN", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    yield page
    context.close()


def fits_the_screen(page) -> bool:  # type: ignore[no-untyped-def]
    """Say whether the page needs no sideways scrolling."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_township_files_a_plan_and_reports_on_a_phone(
    site: tuple[str, World],
    phone,
    runtime: Runtime,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    url, world = site
    page = phone
    page.goto(url + "/login")
    page.fill("input[name=username]", world.township1.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_selector("[data-testid=plan-form]")
    assert f"/network/townships/{world.t1.id}/plan" in page.url
    today = date.today()
    heading = page.inner_text("h1")
    assert heading == f"城关镇 {today.strftime('%Y-%m')} 播放收看计划"
    assert fits_the_screen(page)

    # the plan: a received film at 东村播放点 today at 19:30
    page.select_option("[data-testid=plan-film]", f"{world.received.id}:{world.e1}")
    page.select_option("[data-testid=plan-point]", str(world.p1.id))
    page.fill("[data-testid=plan-date]", today.isoformat())
    page.fill("[data-testid=plan-time]", "19:30")
    page.click("[data-testid=plan-add]")
    page.wait_for_selector("[data-testid=plan-entry]")
    assert "已加入计划" in page.inner_text("main")
    entry = page.inner_text("[data-testid=plan-entry]")
    assert "东村播放点" in entry and "2026年第11期 第1集" in entry and "19:30" in entry
    assert fits_the_screen(page)
    shot(page, "network-plan-phone")

    # the report, from the list of planned screenings still to report
    page.click("[data-testid=tab-report]")
    page.click("[data-testid=report-entry]")
    page.wait_for_selector("[data-testid=report-form]")
    assert "放映情况" in page.inner_text("[data-testid=report-form]")
    assert fits_the_screen(page)
    page.check("[data-testid=outcome-held]")
    page.fill("[data-testid=party-members]", "12")
    page.fill("[data-testid=masses]", "31")
    page.fill("[data-testid=note]", "群众反映很好")
    photo = tmp_path / "现场.jpg"
    Image.new("RGB", (800, 600), (180, 40, 40)).save(photo, "JPEG")
    page.set_input_files("[data-testid=photo]", str(photo))
    shot(page, "network-report-phone")
    page.click("[data-testid=report-submit]")
    page.wait_for_selector("[data-testid=recent-report]")
    text = page.inner_text("main")
    assert "放映情况已上报" in text
    assert "目前所有计划放映均已上报" in text
    report = page.inner_text("[data-testid=recent-report]")
    assert "按计划放映" in report and "43 人观看" in report and "党员 12，群众 31" in report
    assert fits_the_screen(page)
    shot(page, "network-reported-phone")
    # the photo comes back through the app
    response = page.request.get(url + page.get_attribute("[data-testid=report-photo]", "href"))
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.body())).size == (800, 600)

    with runtime.db.session() as s:
        row = s.scalars(select(Screening)).one()
        assert (row.outcome, row.viewers, row.party_members, row.masses) == (
            ScreeningOutcome.HELD, 43, 12, 31,
        )  # fmt: skip
        assert (row.point_id, row.episode_id, row.township_id) == (
            world.p1.id,
            world.e1,
            world.t1.id,
        )
