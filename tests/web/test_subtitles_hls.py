"""Subtitles in HLS and the players' tracks (issue #14 item 2), on local storage and S3
(moto): the master lists a WebVTT subtitle rendition and names it on every variant; its
playlist is one segment covering the film; the segment maps film time 0 to the first
presentation timestamp of the video (as ffprobe reads it); authorised like the ladder."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import m3u8
import pytest
import requests

from mam.models import Role
from mam.services.users import UserService
from tests import media
from tests.conftest import unique_copy
from tests.web.conftest import PASSWORD
from tests.web.learning_site import LEARNER1, LEARNER2, LearningSite, hls_runtime, publish_film
from tests.web.test_learn_hls import signed_in
from tests.web.tus_helpers import serving
from web import create_app

pytestmark = pytest.mark.slow
SECONDS = 7.0  # segments of 6 + 1 s
VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n大家好\n\n00:00:04.000 --> 00:00:06.000\n基层党建\n"


@pytest.fixture(scope="module")
def film(media_dir: Path) -> Path:
    return media.make_clip(media_dir / "subs-film.mp4", seconds=SECONDS, size="320x180")


@pytest.fixture(params=["local", "s3"])
def site(
    request: pytest.FixtureRequest, home: Path, film: Path, tmp_path: Path
) -> Iterator[tuple[LearningSite, str]]:
    runtime = hls_runtime(request, home)
    try:
        site = publish_film(
            runtime, unique_copy(film, tmp_path / "党课 第2讲.mp4"), "党课 第2讲", vtt=VTT
        )
        with runtime.db.session() as s:
            UserService(s).create("reviewer", PASSWORD, [Role.REVIEWER])
            s.commit()
        with serving(create_app({"TESTING": True}, runtime=runtime)) as url:
            yield site, url
    finally:
        runtime.close()


def ffprobe_first_pts(path: Path) -> int:
    """Return the lowest packet PTS of a TS segment (90 kHz), as ffprobe reads it."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "packet=pts", "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return min(int(p["pts"]) for p in json.loads(out)["packets"] if "pts" in p)


def test_the_master_lists_the_subtitle_rendition_for_learners_of_the_county(
    site: tuple[LearningSite, str], tmp_path: Path
) -> None:
    learning, url = site
    base = f"{url}/media/versions/{learning.version_id}/hls/web"
    mine = signed_in(url, *LEARNER1)
    text = mine.get(f"{base}/master.m3u8", timeout=10).text
    media_line = next(line for line in text.splitlines() if line.startswith("#EXT-X-MEDIA:"))
    assert (
        'TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="zh",NAME="中文",DEFAULT=YES,AUTOSELECT=YES'
        in media_line
    )
    assert f'URI="{base}/subs/zh.m3u8?r=1"' in media_line
    master = m3u8.loads(text)
    assert master.playlists and all('SUBTITLES="subs"' in str(p) for p in master.playlists)
    # The subtitle playlist: one WebVTT segment as long as the ladder's segments together.
    sub = m3u8.loads(mine.get(f"{base}/subs/zh.m3u8", timeout=10).text)
    assert sub.is_endlist and [s.uri for s in sub.segments] == [f"{base}/subs/zh.vtt"]
    rung = m3u8.loads(mine.get(master.playlists[0].uri, timeout=10).text)
    assert sub.segments[0].duration == pytest.approx(
        sum(s.duration for s in rung.segments), abs=0.01
    )
    assert sub.target_duration == 7  # 6 s + 1 s
    # The segment: the stored cues, film time 0 mapped to the video's first PTS.
    first = mine.get(rung.segments[0].uri, timeout=10)
    assert first.status_code == 200
    (tmp_path / "seg0.ts").write_bytes(first.content)
    pts = ffprobe_first_pts(tmp_path / "seg0.ts")
    assert pts > 0  # ffmpeg's MPEG-TS muxer does not start at 0: the map matters
    segment = mine.get(f"{base}/subs/zh.vtt", timeout=10)
    assert segment.headers["Content-Type"].startswith("text/vtt")
    assert segment.text.splitlines()[:2] == [
        "WEBVTT",
        f"X-TIMESTAMP-MAP=MPEGTS:{pts},LOCAL:00:00:00.000",
    ]
    assert "00:00:04.000 --> 00:00:06.000\n基层党建" in segment.text
    # Another county's learner, and nobody signed in, get nothing.
    other = signed_in(url, *LEARNER2)
    for link in (f"{base}/subs/zh.m3u8", f"{base}/subs/zh.vtt"):
        assert other.get(link, allow_redirects=False, timeout=10).status_code == 404
        assert requests.get(link, allow_redirects=False, timeout=10).status_code in (302, 401)
    # A language without subtitles, or not a language at all: 404.
    for link in (f"{base}/subs/en.m3u8", f"{base}/subs/%3Cx%3E.vtt"):
        assert mine.get(link, timeout=10).status_code == 404
    # The learner page keeps a <track> (labelled in its language) for players without HLS.
    page = mine.get(f"{url}/learn/episodes/{learning.episode_id}", timeout=10).text
    assert re.search(
        r'<track kind="subtitles" src="/learn/subtitles/\d+\.vtt" srclang="zh" label="中文"', page
    )


def test_the_review_track_is_served_to_staff_only(site: tuple[LearningSite, str]) -> None:
    learning, url = site
    track = f"{url}/review/versions/{learning.version_id}/subtitles/zh.vtt"
    reviewer = requests.Session()
    reviewer.headers["User-Agent"] = "mam-tests"
    page = reviewer.get(f"{url}/login", timeout=10).text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert token
    reviewer.post(
        f"{url}/login",
        data={"username": "reviewer", "password": PASSWORD, "csrf_token": token[1]},
        timeout=10,
    )
    got = reviewer.get(track, timeout=10)
    assert got.status_code == 200 and got.text == VTT
    review = reviewer.get(f"{url}/review/versions/{learning.version_id}", timeout=10).text
    src = f"/review/versions/{learning.version_id}/subtitles/zh.vtt?r=1"
    assert f'<track kind="subtitles" src="{src}" srclang="zh" label="中文" default' in review
    assert 'data-may-edit="0"' in review  # a reviewer sees, does not edit
    learner = signed_in(url, *LEARNER1)
    assert learner.get(track, allow_redirects=False, timeout=10).status_code == 403
    missing = f"{url}/review/versions/{learning.version_id}/subtitles/en.vtt"
    assert reviewer.get(missing, timeout=10).status_code == 404
