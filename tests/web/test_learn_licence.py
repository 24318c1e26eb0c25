"""A learner cannot stream an episode whose licence excludes online learning, their county,
or has ended: the episode page, the playlists and every segment answer 404 (a real HLS
ladder made by ffmpeg, served over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import m3u8
import pytest
from sqlalchemy import select

from mam.models import County, Episode, Role, User, UserRole
from mam.services.licences import LicenceForm, LicenceService, today
from tests import media
from tests.conftest import unique_copy
from tests.web.learning_site import LEARNER1, LearningSite, hls_runtime, publish_film
from tests.web.test_learn_hls import signed_in
from tests.web.tus_helpers import serving
from web import create_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def film(media_dir: Path) -> Path:
    return media.make_clip(media_dir / "licence-film.mp4", seconds=8, size="320x180")


@pytest.fixture(params=["local"])
def site(
    request: pytest.FixtureRequest, home: Path, film: Path, tmp_path: Path
) -> Iterator[tuple[LearningSite, str]]:
    runtime = hls_runtime(request, home)
    try:
        site = publish_film(runtime, unique_copy(film, tmp_path / "引进片.mp4"), "引进片 第1集")
        with serving(create_app({"TESTING": True}, runtime=runtime)) as url:
            yield site, url
    finally:
        runtime.close()


def licence(site: LearningSite, **form: object) -> None:
    """Give the film's episode the licence ``form`` (as an admin would)."""
    with site.runtime.db.session() as s:
        admin = s.scalar(
            select(User).join(UserRole).where(UserRole.role == Role.ADMIN).limit(1)
        )
        episode = s.get_one(Episode, site.episode_id)
        LicenceService(s).save(admin, LicenceForm(holder="中央新影", **form), episode=episode)  # type: ignore[arg-type]
        s.commit()


def test_a_licence_that_does_not_cover_the_learner_stops_every_request(
    site: tuple[LearningSite, str],
) -> None:
    learning, url = site
    learner = signed_in(url, *LEARNER1)  # of 甲县 (c1)
    page = f"{url}/learn/episodes/{learning.episode_id}"
    master = f"{url}/media/versions/{learning.version_id}/hls/web/master.m3u8"
    assert learner.get(page, timeout=10).status_code == 200  # self-produced: unrestricted
    variant = m3u8.loads(learner.get(master, timeout=10).text).playlists[0].uri
    segments = [s.uri for s in m3u8.loads(learner.get(variant, timeout=10).text).segments]
    links = [page, master, variant, *segments]

    def answers() -> list[int]:
        return [learner.get(u, allow_redirects=False, timeout=10).status_code for u in links]

    assert answers() == [200] * len(links)
    with learning.runtime.db.session() as s:
        c2 = s.scalar(select(County.id).where(County.code == "c2"))
    day = today()
    refused = [404] * len(links)
    licence(learning, uses=("web",), all_counties=False, county_ids=(c2,))  # another county
    assert answers() == refused
    listing = learner.get(f"{url}/learn/", timeout=10).text
    assert "引进片 第1集" not in listing
    licence(learning, uses=("tv", "playback"))  # not for online learning
    assert answers() == refused
    licence(learning, uses=("web",), ends_on=(day - timedelta(days=1)).isoformat())  # ended
    assert answers() == refused
    licence(learning, uses=("web",), starts_on=(day + timedelta(days=1)).isoformat())  # not yet
    assert answers() == refused
    licence(learning, uses=("web",), ends_on=day.isoformat())  # its last day: allowed
    assert answers() == [200] * len(links)
    assert "引进片 第1集" in learner.get(f"{url}/learn/", timeout=10).text
