"""HLS for learners on both backends: every playlist and segment is authorised (another
county's learner gets 404), every segment served is accounted to the learner, and what a
heartbeat may credit is bounded by it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import m3u8
import pytest
import requests
from sqlalchemy import select

from mam.models.learning import StudyRecord, StudySegment
from tests import media
from tests.conftest import unique_copy
from tests.web.learning_site import LEARNER1, LEARNER2, LearningSite, hls_runtime, publish_film
from tests.web.tus_helpers import serving
from web import create_app

pytestmark = pytest.mark.slow
SECONDS = 13.0  # segments of 6 + 6 + 1 s


@pytest.fixture(scope="module")
def film(media_dir: Path) -> Path:
    return media.make_clip(media_dir / "learn-film.mp4", seconds=SECONDS, size="640x360")


@pytest.fixture(params=["local", "s3"])
def site(
    request: pytest.FixtureRequest, home: Path, film: Path, tmp_path: Path
) -> Iterator[tuple[LearningSite, str]]:
    runtime = hls_runtime(request, home)
    try:
        site = publish_film(runtime, unique_copy(film, tmp_path / "党课 第1讲.mp4"), "党课 第1讲")
        with serving(create_app({"TESTING": True}, runtime=runtime)) as url:
            yield site, url
    finally:
        runtime.close()


def signed_in(url: str, phone: str, password: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{url}/login", timeout=10).text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert token
    response = http.post(
        f"{url}/login",
        data={"username": phone, "password": password, "csrf_token": token[1]},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302 and response.headers["Location"] == "/learn/"
    return http


def test_learners_get_their_countys_ladder_and_nothing_else(
    site: tuple[LearningSite, str],
) -> None:
    learning, url = site
    master = f"{url}/media/versions/{learning.version_id}/hls/web/master.m3u8"
    mine = signed_in(url, *LEARNER1)
    other = signed_in(url, *LEARNER2)
    # The learner of c1 gets every playlist and segment ...
    playlist = mine.get(master, timeout=10)
    assert playlist.status_code == 200
    variants = [p.uri for p in m3u8.loads(playlist.text).playlists]
    assert len(variants) == 1
    rung = mine.get(variants[0], timeout=10)
    assert rung.status_code == 200
    segments = [s.uri for s in m3u8.loads(rung.text).segments]
    assert len(segments) == 3
    # ... the learner of c2 none of them: not the master, the rung, or any segment.
    for link in (master, variants[0], *segments):
        assert other.get(link, allow_redirects=False, timeout=10).status_code == 404, link
    assert requests.get(master, allow_redirects=False, timeout=10).status_code in (302, 401)
    # Nothing served yet: a heartbeat claiming the whole film earns nothing.
    page = mine.get(f"{url}/learn/episodes/{learning.episode_id}", timeout=10).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token
    progress = f"{url}/learn/episodes/{learning.episode_id}/progress"
    headers = {"X-CSRFToken": token[1], "Referer": url + "/"}
    claim = mine.post(progress, json={"watched": 13, "position": 13}, headers=headers, timeout=10)
    assert claim.status_code == 200 and claim.json()["watched_seconds"] == 0.0
    # Two segments served (the first twice, as a player retrying would): 12 s at most.
    for link in (segments[0], segments[0], segments[1]):
        got = mine.get(link, timeout=10)
        assert got.status_code == 200 and len(got.content) > 1000
    with learning.runtime.db.session() as s:
        rows = s.scalars(select(StudySegment).order_by(StudySegment.sequence)).all()
        assert [(r.sequence, round(r.seconds)) for r in rows] == [(0, 6), (1, 6)]
        assert all(r.login_session_id is not None for r in rows)
        record = s.scalars(select(StudyRecord)).one()
        record.credit_clock = record.started_at.replace(year=2020)
        s.commit()
    claim = mine.post(progress, json={"watched": 13, "position": 13}, headers=headers, timeout=10)
    assert claim.json()["watched_seconds"] == pytest.approx(12.0, abs=0.1)
    assert claim.json()["completed"] is True  # 12 of 13 s is at least 90 %
