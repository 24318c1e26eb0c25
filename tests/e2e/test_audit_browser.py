"""The audit page as Chromium shows it in zh_CN: no ASCII snake_case word in the visible text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from mam.runtime import Runtime
from tests.e2e.conftest import PASSWORD, shot
from tests.web.audit_fixtures import fill_audit_log
from tests.web.tus_helpers import serving
from web import create_app

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SNAKE_CASE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


@pytest.fixture
def web_url(runtime: Runtime) -> Iterator[str]:
    """The web app alone on a free port (the audit page needs no worker)."""
    with serving(create_app(runtime=runtime)) as url:
        yield url


def test_the_audit_page_shows_no_codes(runtime: Runtime, web_url: str, page: Any) -> None:
    fill_audit_log(runtime)
    page.goto(web_url + "/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_load_state("networkidle")
    for path in ["/admin/audit", "/admin/audit?object_type=release_set"]:
        page.goto(web_url + path)
        text = page.inner_text("body")
        assert "张编导 送审了《乡村振兴 第1集》第2版" in text or "release_set" in path
        assert "赵县管 上报了供片批次“2026年第12期”的一场放映" in text
        assert SNAKE_CASE.findall(text) == [], path
    shot(page, "audit-zh")
