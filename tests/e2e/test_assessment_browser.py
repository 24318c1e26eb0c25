"""In Chromium, in Chinese: the assessment dashboards, from a county's score to a screening."""

from __future__ import annotations

import pytest

from mam.models import Role
from mam.services.users import UserService
from tests import assessment_world
from tests.e2e.conftest import PASSWORD, LiveSystem, shot
from tests.e2e.test_county_browser import login

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_score_drills_down_to_the_screening(live_system: LiveSystem, page) -> None:  # type: ignore[no-untyped-def]
    rt = live_system.runtime
    with rt.db.session() as s:
        world = assessment_world.build(s)
        s.commit()
        UserService(s).create("publisher", PASSWORD, [Role.PUBLISHER], display_name="赵发布")
    blocked: list[str] = []
    page.on(
        "console",
        lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None,
    )

    login(page, live_system.url, "publisher")
    page.click("[data-testid=nav-assessment]")
    assert "目标考核" in page.inner_text("h1")
    page.goto(live_system.url + "/assessment/?start=2026-03&end=2026-04")
    assert page.locator("[data-testid=heatmap] rect").count() >= 4
    assert page.locator("[data-testid=trend] polyline").count() == 4
    ranking = page.inner_text("[data-testid=ranking]")
    assert "各县" in page.inner_text("main") and "计划完成率" in ranking
    assert ranking.index("甲县") < ranking.index("乙县")
    shot(page, "assessment-counties")

    page.click("[data-testid=ranking] >> text=甲县")
    assert page.inner_text("[data-testid=score]") == "65.9"
    assert "3 ÷ 5" in page.inner_text("[data-testid=figure-plan]")
    assert "得分 = 100 × Σ(权重 × 指标值) ÷ Σ权重" in page.inner_text("[data-testid=formula]")
    shot(page, "assessment-county")

    page.click("[data-testid=drill-screenings]")
    page.wait_for_url("**/assessment/screenings?**")
    rows = page.locator("[data-testid=screening-row]")
    assert rows.count() == 6  # March and April of 甲县, not-held report included
    page.click("[data-testid=screening-link] >> text=2026-03-10")
    detail = page.inner_text("[data-testid=screening-detail]")
    assert "东村放映点" in detail and "党的光辉历程" in detail and "城关镇" in detail
    assert page.inner_text("[data-testid=attendance]").startswith("40")
    assert page.url.endswith(f"/assessment/screening/{world.screenings['s1']}")
    shot(page, "assessment-screening")
    assert blocked == []
