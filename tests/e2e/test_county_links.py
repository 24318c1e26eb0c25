"""In Chromium, as a county user: every link on every page they can reach opens (no 403/404)."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest

from mam.runtime import Runtime
from tests.e2e.conftest import shot
from tests.web.county_fixtures import PASSWORD, build_world
from tests.web.tus_helpers import serving

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def login(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_load_state()


def links_on(page, base: str) -> set[str]:  # type: ignore[no-untyped-def]
    hrefs = page.eval_on_selector_all("a[href], img[src]", "els => els.map(e => e.href || e.src)")
    host = urlsplit(base).netloc
    return {h.split("#")[0] for h in hrefs if urlsplit(h).netloc == host}


def test_county_user_meets_no_forbidden_or_missing_links(
    runtime: Runtime,
    page,  # type: ignore[no-untyped-def]
) -> None:
    world = build_world(runtime, 200_000)
    with serving(world.app) as base:
        login(page, base, "county")
        assert page.url == base + "/county/"
        assert "乡村振兴 第1集" in page.inner_text("main")
        poster = page.locator("[data-testid=county-poster]")
        poster.evaluate("img => img.decode()")
        assert poster.evaluate("img => img.naturalWidth") == 32  # the poster really loads
        shot(page, "county-episodes")
        # start from the county page and from error pages a county user can land on
        start = [base + "/county/", base + "/county/no-such-page", base + "/releases/"]
        to_visit, seen, checked = list(start), set(), {}
        while to_visit:
            url = to_visit.pop()
            if url in seen:
                continue
            seen.add(url)
            response = page.goto(url)
            assert response is not None
            if url not in start:
                assert response.status == 200, url
            for link in links_on(page, base) - seen:
                if link not in checked:
                    checked[link] = page.request.get(link).status
                if (
                    checked[link] == 200
                    and "/download" not in link
                    and ("text/html" in (page.request.head(link).headers.get("content-type") or ""))
                ):
                    to_visit.append(link)
        bad = {link: status for link, status in checked.items() if status != 200}
        assert bad == {}, bad
        assert base + "/account/tokens" in checked and base + "/county/feed.atom" in checked
        assert any("/posters/" in link for link in checked)
        # the brand and the error page's way back both lead to the county page
        page.goto(base + "/county/no-such-page")
        page.click("[data-testid=error-home]")
        assert page.url == base + "/county/"
        page.goto(base + "/account")
        page.click("[data-testid=brand]")
        assert page.url == base + "/county/"
        page.goto(base + "/account")
        page.click("[data-testid=account-tokens]")
        assert page.url == urljoin(base, "/account/tokens")
        shot(page, "county-tokens")
