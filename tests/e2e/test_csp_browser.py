"""The Content-Security-Policy breaks nothing: walk the main pages of every role in Chromium.

A CSP violation does not raise anything; the browser only refuses the script or style and
says so on the console. This test fails on any such console message (and on any page error).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from mam.models import Role, Version
from mam.services.releases import ReleaseService
from mam.services.users import UserService
from tests.e2e.conftest import PASSWORD, LiveSystem
from tests.web.test_metadata import make_episode

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _login(page: Any, url: str, username: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, f"{username} could not sign in"


def _seed(live_system: LiveSystem) -> dict[str, int]:
    rt = live_system.runtime
    episode_id = make_episode(rt, "党建引领乡村振兴")
    with rt.db.session() as s:
        users = UserService(s)
        users.ensure_county("c1", "甲县")
        users.create("admin", PASSWORD, [Role.ADMIN])
        publisher = users.create("publisher", PASSWORD, [Role.PUBLISHER])
        users.create("xian", PASSWORD, [Role.COUNTY], county_code="c1")
        release = ReleaseService(s).create("2026年第12期", publisher)
        version_id = s.scalar(select(Version.id).where(Version.episode_id == episode_id))
        assert version_id is not None
        return {"episode": episode_id, "version": version_id, "release": release.id}


def test_main_pages_load_without_csp_violations(live_system: LiveSystem, page: Any) -> None:
    ids = _seed(live_system)
    url = live_system.url
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: problems.append(f"{page.url}: {msg.text}")
        if "Content Security Policy" in msg.text or msg.type == "error"
        else None,
    )
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
    walks = {
        "producer": [
            "/",
            "/search?q=党建",
            f"/episodes/{ids['episode']}",
            "/upload",
            f"/upload?episode_id={ids['episode']}",
            "/inbox",
            "/account",
            "/account/tokens",
            "/api/v1/docs",
        ],
        "reviewer": [f"/review/versions/{ids['version']}", "/inbox"],
        "publisher": ["/releases/", f"/releases/{ids['release']}", "/releases/dashboard"],
        "admin": [
            "/admin/users",
            "/admin/programmes",
            "/admin/counties",
            "/admin/audit",
            "/topics",
        ],
        "xian": ["/county/"],
    }
    visited = 0
    for username, paths in walks.items():
        page.context.clear_cookies()
        _login(page, url, username)
        for path in paths:
            response = page.goto(url + path)
            page.wait_for_load_state("networkidle")
            assert response is not None and response.status == 200, (username, path)
            assert page.url == url + path or "?" in path, (username, path, page.url)
            assert "script-src 'self'" in response.headers["content-security-policy"]
            visited += 1
    assert visited == sum(len(p) for p in walks.values())
    assert not problems, "\n".join(problems)

    # The listener does hear a violation: an inline style attribute is refused.
    page.evaluate("document.body.setAttribute('style', 'background: red')")
    page.wait_for_timeout(200)
    assert any("Content Security Policy" in p for p in problems), problems
