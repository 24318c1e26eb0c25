"""HLS through the app on both backends (issue #16, item 3): master and variant playlists
rewritten to absolute links, every segment answering with the right bytes, ffprobe
playing the app's master URL over HTTP, thumbnails and poster reachable on S3 too."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import m3u8
import pytest
import requests

from mam import migrate
from mam.models import Role, Version
from mam.runtime import Runtime, build_runtime
from mam.services.users import UserService
from tests import media
from tests.conftest import clear_ambient_settings, make_settings, unique_copy
from tests.web.conftest import PASSWORD, process_now
from tests.web.tus_helpers import serving
from web import create_app

pytestmark = pytest.mark.slow
SECONDS = 13.0  # three 6 s segments per rung, the last one short


@dataclass
class Site:
    url: str
    runtime: Runtime
    version_id: int
    backend: str


@pytest.fixture(scope="module")
def film(media_dir: Path) -> Path:
    return media.make_clip(media_dir / "hls-film.mp4", seconds=SECONDS, size="640x360")


@pytest.fixture(scope="module", params=["local", "s3"])
def site(
    request: pytest.FixtureRequest, film: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """A processed film on the local or the S3 backend (moto over HTTP), the app serving it.

    One per module and backend: the tests only read it.
    """
    tmp_path = tmp_path_factory.mktemp(f"hls-{request.param}")
    home = tmp_path / "var"
    home.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        clear_ambient_settings(mp)
        if request.param == "s3":
            endpoint = request.getfixturevalue("moto_endpoint")
            settings = make_settings(
                home,
                storage_backend="s3",
                s3_bucket=f"hls-{uuid.uuid4().hex[:8]}",
                s3_endpoint_url=endpoint,
                s3_create_bucket=True,
            )
        else:
            settings = make_settings(home)
    migrate.upgrade(settings.database_url)
    runtime = build_runtime(settings)
    with runtime.db.session() as s:
        users = UserService(s)
        users.ensure_county("c1", "甲县")
        users.create("reviewer", PASSWORD, [Role.REVIEWER], display_name="李审片")
        users.create("county", PASSWORD, [Role.COUNTY], county_code="c1")
    vid = process_now(runtime, unique_copy(film, tmp_path / "网课 第1讲.mp4"))
    app = create_app({"TESTING": True}, runtime=runtime)
    try:
        with serving(app) as url:
            yield Site(url, runtime, vid, request.param)
    finally:
        runtime.close()


AGENT = "mam-tests"  # one User-Agent for requests and ffmpeg (the session is bound to it)


def signed_in(site: Site, username: str = "reviewer") -> requests.Session:
    http = requests.Session()
    http.headers["User-Agent"] = AGENT
    page = http.get(f"{site.url}/login", timeout=10).text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert token
    response = http.post(
        f"{site.url}/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token[1]},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    return http


def stored(site: Site, key: str) -> bytes:
    with site.runtime.storage.open(key) as fh:
        return fh.read()


def master_url(site: Site) -> str:
    return f"{site.url}/media/versions/{site.version_id}/hls/web/master.m3u8"


def test_every_link_of_the_ladder_answers_with_the_right_bytes(site: Site) -> None:
    http = signed_in(site)
    response = http.get(master_url(site), timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.apple.mpegurl")
    master = m3u8.loads(response.text)
    with site.runtime.db.session() as s:
        web = s.get_one(Version, site.version_id).rendition("web")
        assert web is not None
        rungs = [r["name"] for r in web.media_info["rungs"]]
    assert rungs == ["360p"]
    assert [p.uri for p in master.playlists] == [
        f"{site.url}/media/versions/{site.version_id}/hls/web/{rung}/index.m3u8" for rung in rungs
    ]
    assert master.playlists[0].stream_info.resolution == (640, 360)
    base = f"renditions/{site.version_id}/web"
    segments = 0
    for variant, rung in zip(master.playlists, rungs, strict=True):
        playlist = http.get(variant.uri, timeout=10)
        assert playlist.status_code == 200
        parsed = m3u8.loads(playlist.text)
        assert parsed.is_endlist and parsed.playlist_type == "vod"
        assert sum(seg.duration for seg in parsed.segments) == pytest.approx(SECONDS, abs=0.05)
        for seg in parsed.segments:
            name = seg.uri.rsplit("/", 1)[-1]
            assert seg.uri == f"{site.url}/media/versions/{site.version_id}/hls/web/{rung}/{name}"
            direct = http.get(seg.uri, allow_redirects=False, timeout=10)
            if site.backend == "s3":  # a fresh presigned URL for this one segment
                assert direct.status_code == 302
                assert "X-Amz-Signature=" in direct.headers["Location"]
            else:
                assert direct.status_code == 200
            got = http.get(seg.uri, timeout=10)
            assert got.status_code == 200 and got.content == stored(site, f"{base}/{rung}/{name}")
            segments += 1
    assert segments == 3
    # Ranges work on every backend (players and ffmpeg seek with them).
    head = parsed.segments[0].uri
    first = http.get(head, headers={"Range": "bytes=188-375"}, timeout=10)
    whole = stored(site, f"{base}/{rungs[-1]}/{head.rsplit('/', 1)[-1]}")
    assert first.status_code == 206 and first.content == whole[188:376]


# ffmpeg hangs up on a segment once it has what it needs; werkzeug's test server then
# drops the response without closing its file (a ResourceWarning, not a fault of the
# route; gunicorn closes it).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_ffprobe_plays_the_apps_master_playlist_over_http(site: Site) -> None:
    http = signed_in(site)
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-user_agent", AGENT, "-headers", f"Cookie: {cookie}\r\n",
         "-show_entries", "format=duration:stream=codec_type,width,height",
         "-of", "json", master_url(site)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert float(info["format"]["duration"]) == pytest.approx(SECONDS, abs=0.1)
    kinds = {s["codec_type"] for s in info["streams"]}
    assert kinds == {"video", "audio"}
    # ffmpeg reads every segment through the app to the end: every frame of the film.
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-user_agent", AGENT, "-headers", f"Cookie: {cookie}\r\n",
         "-i", master_url(site), "-map", "0:v:0", "-f", "framecrc", "-"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    frames = [line for line in decoded.stdout.splitlines() if line and not line.startswith("#")]
    assert decoded.returncode == 0 and len(frames) == round(SECONDS * 25), decoded.stderr
    # (On S3 each segment redirects to the object store: ffmpeg says it cannot reuse its
    # connection to the app for that host, and opens another. Nothing else.)
    problems = [e for e in decoded.stderr.splitlines() if "Cannot reuse HTTP connection" not in e]
    assert problems == []


def test_playlists_are_for_staff_only(site: Site) -> None:
    anonymous = requests.get(master_url(site), allow_redirects=False, timeout=10)
    assert anonymous.status_code in (302, 401)
    county = signed_in(site, "county")
    assert county.get(master_url(site), timeout=10).status_code == 403
    reviewer = signed_in(site)
    missing = f"{site.url}/media/versions/{site.version_id}/hls/web"
    for path in ("/1080p/index.m3u8", "/360p/..%2Fmaster.m3u8", "/360p/seg_99999.ts",
                 "/360p/notes.txt"):  # fmt: skip
        assert reviewer.get(missing + path, timeout=10).status_code == 404, path
    other = f"{site.url}/media/versions/{site.version_id + 1}/hls/web/master.m3u8"
    assert reviewer.get(other, timeout=10).status_code == 404


def test_thumbnails_sprite_track_and_poster_work_on_both_backends(site: Site) -> None:
    http = signed_in(site)
    vid = site.version_id
    track = http.get(f"{site.url}/versions/{vid}/thumbs/thumbnails.vtt", allow_redirects=False,
                     timeout=10)  # fmt: skip
    # Served by the app (a page reads it with fetch(): no cross-origin redirect) ...
    assert track.status_code == 200 and track.headers["Content-Type"].startswith("text/vtt")
    links = re.findall(r"^(\S+)#xywh=\d+,\d+,\d+,\d+$", track.text, re.MULTILINE)
    assert links and set(links) == {f"{site.url}/versions/{vid}/thumbs/sprite-001.jpg"}
    # ... with absolute links to sprite sheets that load.
    sheet = http.get(links[0], timeout=10)
    assert sheet.status_code == 200
    assert sheet.content == stored(site, f"thumbs/{vid}/sprite-001.jpg")
    poster = http.get(f"{site.url}/media/versions/{vid}/poster", timeout=10)
    assert poster.status_code == 200 and poster.content[:3] == b"\xff\xd8\xff"
    with site.runtime.db.session() as s:
        web = s.get_one(Version, vid).rendition("web")
        assert web is not None
        web_id = web.id
    # The rendition link of the ladder leads to the app's master, never a presigned one.
    ladder = http.get(f"{site.url}/media/renditions/{web_id}", allow_redirects=False, timeout=10)
    assert ladder.status_code == 302
    assert ladder.headers["Location"].endswith(f"/media/versions/{vid}/hls/web/master.m3u8")
    page = http.get(f"{site.url}/episodes/{episode_of(site)}", timeout=10).text
    assert f'data-hls-src="/media/versions/{vid}/hls/web/master.m3u8"' in page


def episode_of(site: Site) -> int:
    with site.runtime.db.session() as s:
        return s.get_one(Version, site.version_id).episode_id
