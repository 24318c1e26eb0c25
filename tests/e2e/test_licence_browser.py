"""In Chromium: a producer enters the licence of an imported episode on its page; the page
answers in Chinese with the state badge, the uses and the territory."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from mam.models import County, Episode, Role, SourceType, VersionState
from mam.models.licence import Licence
from mam.runtime import Runtime
from mam.services.licences import today
from mam.services.users import UserService
from tests import factories
from tests.e2e.conftest import PASSWORD, _free_port, shot
from web import create_app

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def site(runtime: Runtime) -> Iterator[tuple[str, int]]:
    """The web app alone (nothing to process here) and an imported, approved episode."""
    with runtime.db.session() as s:
        users = UserService(s)
        users.ensure_county("c1", "甲县")
        users.ensure_county("c2", "乙县")
        producer = users.create("producer", PASSWORD, [Role.PRODUCER], display_name="张编导")
        v = factories.version(s, VersionState.APPROVED, programme="引进纪录片", title="大国粮仓")
        v.episode.source_type = SourceType.IMPORTED
        v.episode.programme.producer_id = producer.id
        v.asset.media_info = {"duration": 2.0, "container": "mp4", "video": [], "audio": []}
        s.commit()
        episode_id = v.episode_id
    server = make_server("127.0.0.1", _free_port(), create_app(runtime=runtime), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", episode_id
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_a_producer_enters_a_licence_for_one_county(
    site: tuple[str, int], runtime: Runtime, page  # type: ignore[no-untyped-def]
) -> None:
    url, episode_id = site
    page.goto(url + "/login")
    page.fill("input[name=username]", "producer")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(url + "/")
    page.goto(f"{url}/episodes/{episode_id}")
    card = page.locator("[data-testid=licence]")
    assert card.locator("[data-testid=licence-state]").first.inner_text() == "无许可"
    assert "须先录入版权许可" in card.locator("[data-testid=licence-missing]").inner_text()
    assert page.locator("[data-testid=edit-licence]").get_attribute("open") is not None
    ends = today() + timedelta(days=20)
    page.fill("[data-testid=licence-holder-input]", "中央新影集团")
    page.fill("input[name=contract_ref]", "ZX-2027-08")
    page.fill("[data-testid=licence-start]", "2026-01-01")
    page.fill("[data-testid=licence-end]", ends.isoformat())
    page.uncheck("[data-testid=licence-use-web]")
    page.uncheck("[data-testid=licence-all-counties]")
    page.check("[data-testid=licence-county-c1]")
    page.click("[data-testid=save-licence]")
    page.wait_for_selector(".flash.info")
    assert page.locator(".flash.info").inner_text().strip() == "版权许可已保存。"
    card = page.locator("[data-testid=licence]")
    assert card.locator("[data-testid=licence-state]").first.inner_text() == "许可即将到期"
    assert card.locator("[data-testid=licence-holder]").inner_text() == "中央新影集团"
    uses = card.locator("[data-testid=licence-uses] .tag").all_inner_texts()
    assert uses == ["电视播出", "村级放映"]
    assert card.locator("[data-testid=licence-territory]").inner_text().strip() == "甲县"
    assert card.locator("[data-testid=licence-period]").inner_text() == (
        f"2026-01-01 – {ends.isoformat()}"
    )
    shot(page, "licence-form")
    with runtime.db.session() as s:
        licence = s.scalars(select(Licence)).one()
        c1 = s.scalar(select(County.id).where(County.code == "c1"))
        assert (licence.episode_id, licence.uses, licence.county_ids, licence.ends_on) == (
            episode_id, ["tv", "playback"], {c1}, ends,
        )  # fmt: skip
        assert s.get_one(Episode, episode_id).title == "大国粮仓"
