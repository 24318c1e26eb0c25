"""County staff in Chromium edit a learner (name, phone, playback point), deactivate them
(the learner is told why at sign-in, in Chinese), and reactivate them (the learner signs in)."""

from __future__ import annotations

import pytest

from mam.models import County, Role
from mam.models.network import PlaybackPoint, PointKind, Township
from mam.runtime import Runtime
from mam.services.learners import LearnerService
from mam.services.users import UserService
from tests.e2e.conftest import PASSWORD, shot
from tests.web.tus_helpers import serving
from web import create_app

pytestmark = [pytest.mark.browser]
LEARNER = ("13800000001", "long password one")


def _setup(runtime: Runtime) -> None:
    with runtime.db.session() as s:
        users = UserService(s)
        users.ensure_county("c1", "甲县")
        users.ensure_county("c2", "乙县")
        staff = users.create("staff1", PASSWORD, [Role.COUNTY], county_code="c1")
        users.create("staff2", PASSWORD, [Role.COUNTY], county_code="c2")
        county = s.query(County).filter_by(code="c1").one()
        town = Township(county_id=county.id, name="城关镇")
        s.add(town)
        s.flush()
        s.add(PlaybackPoint(township_id=town.id, name="东村播放点", kind=PointKind.VILLAGE))
        s.flush()
        LearnerService(s).create(county.id, "王学员", *LEARNER, staff)


def _sign_in(page, url: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login-submit]")


def test_staff_edit_deactivate_and_reactivate_a_learner(runtime: Runtime, browser) -> None:  # type: ignore[no-untyped-def]
    _setup(runtime)
    staff = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    learner = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page, phone = staff.new_page(), learner.new_page()
    try:
        with serving(create_app(runtime=runtime)) as url:
            _sign_in(page, url, "staff1", PASSWORD)
            page.goto(url + "/county/learners/")
            page.click("[data-testid=learner-open]")
            page.fill("[data-testid=learner-edit-name]", "王学员甲")
            page.select_option("[data-testid=learner-edit-point]", label="城关镇 · 东村播放点")
            page.click("[data-testid=learner-save]")
            assert page.locator(".flash").first.inner_text() == "学员信息已保存。"
            assert page.input_value("[data-testid=learner-edit-name]") == "王学员甲"
            edit_url = page.url
            page.goto(url + "/county/learners/")
            row = page.locator("[data-testid=learner-row]")
            assert "东村播放点" in row.inner_text() and "王学员甲" in row.inner_text()
            by_point = page.locator("[data-testid=point-study]").first
            assert by_point.locator("[data-testid=point-learners]").inner_text() == "1"
            page.goto(edit_url)
            page.click("[data-testid=learner-deactivate]")
            assert page.locator("[data-testid=learner-inactive]").inner_text() == "已停用"
            shot(page, "learner-deactivated")

            _sign_in(phone, url, *LEARNER)
            assert "已被县级电教中心停用" in phone.locator(".flash").first.inner_text()
            assert "/login" in phone.url

            other = browser.new_context(locale="zh-CN").new_page()  # another county: not found
            _sign_in(other, url, "staff2", PASSWORD)
            assert other.goto(edit_url).status == 404  # type: ignore[union-attr]
            other.context.close()

            page.click("[data-testid=learner-reactivate]")
            assert page.locator("[data-testid=learner-deactivate]").count() == 1
            _sign_in(phone, url, *LEARNER)
            phone.wait_for_url(url + "/learn/")
    finally:
        staff.close()
        learner.close()
