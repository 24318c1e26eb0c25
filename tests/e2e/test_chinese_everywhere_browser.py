"""In Chromium, the main pages of every role read Chinese: no snake_case word, no English
sentence in the visible text. The data is what a working day leaves: a processed episode in
review with its QC report and a failed job, a published release set with its packages, a
county's screenings.

Allowed are only things that are not words of the interface: file names, codecs and formats
(H.264, HLS, MP4, AAC), figures with units (LUFS, dBTP, kb/s), SHA-256 digests, user names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from mam.models import County, Job, JobKind, JobState, Role, User, Version
from mam.runtime import Runtime
from mam.services.review import ReviewService
from mam.services.users import UserService
from tests.e2e.conftest import PASSWORD, shot
from tests.e2e.test_county_browser import login
from tests.web.conftest import process_now
from tests.web.county_fixtures import build_world
from tests.web.tus_helpers import serving
from web import create_app

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
SENTENCE = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,;:'’-]+[A-Za-z][a-z]+){2,}\b")
# Not words of the interface: a file name, a digest, a technical token.
NOT_WORDS = re.compile(
    r"[\w\u4e00-\u9fff .-]+\.(?:mp4|m3u8|jpg|vtt|srt|zip|csv|xlsx)\b"  # file names
    r"|\b[0-9a-f]{16,64}\b"  # SHA-256 digests (whole or shortened)
    r"|\bmov,mp4,m4a,3gp,3g2,mj2\b"  # ffprobe's container name
)


# The page's visible text, less what is marked translate="no" (HTML's own mark for text that
# is not to be translated: a tool's technical detail shown apart, such as ffprobe's words).
VISIBLE_TEXT = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('[translate="no"], script, style, template').forEach((n) => n.remove());
  document.documentElement.appendChild(body);
  const text = body.innerText;
  body.remove();
  return text;
}"""


def visible_words(text: str) -> tuple[list[str], list[str]]:
    """Return the snake_case words and the English sentences of a page's visible text."""
    text = NOT_WORDS.sub(" ", text)
    return SNAKE.findall(text), [m.group(0) for m in SENTENCE.finditer(text)]


def test_the_detector_finds_what_it_should() -> None:
    snake, english = visible_words(
        "状态 in_review；is not readable media: Invalid data；H.264 1280×720 AAC -23.0 LUFS；"
        "乡村 振兴 第1集.mp4 a3f9c2e1d4b5a6f7；release_published"
    )
    assert snake == ["in_review", "release_published"]
    assert english == ["is not readable media: Invalid data"]


@pytest.fixture
def day(runtime: Runtime, fresh_clip: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """A working day's data; yields the server's URL and the ids the pages need."""
    world = build_world(runtime, 50_000)
    with runtime.db.session() as s:
        users = UserService(s)
        users.create("reviewer", PASSWORD, [Role.REVIEWER], display_name="李审片")
        users.create("admin", PASSWORD, [Role.ADMIN], display_name="王管理")
    version_id = process_now(runtime, fresh_clip, programme="时代风采", title="乡村振兴 第2集")
    with runtime.db.session() as s:
        producer = s.scalar(select(User).where(User.username == "producer"))
        version = s.get_one(Version, version_id)
        assert producer is not None
        version.episode.programme.producer_id = producer.id
        s.commit()
        ReviewService(s).submit(version_id, producer)
        failed = Job(version_id=version_id, kind=JobKind.PROCESS, state=JobState.FAILED,
                     attempts=1, error_code="processing.ffmpeg_failed",
                     error_params={"detail": "moov atom not found"},
                     last_error="Transcoding failed. (moov atom not found)")  # fmt: skip
        s.add(failed)
        s.commit()
        episode_id = version.episode_id
    with runtime.db.session() as s:
        county = s.scalar(select(County.id).where(County.code == "c1"))
        world_episode = s.get_one(Version, world.version).episode_id
    ids = {"version": version_id, "episode": episode_id, "release": world.release,
           "county": county, "world_episode": world_episode}  # fmt: skip
    with serving(create_app(runtime=runtime)) as url:
        yield url, ids


PAGES = {
    "producer": ["/", "/episodes/{episode}", "/upload", "/search?q=乡村", "/inbox",
                 "/account/tokens", "/episodes/{world_episode}"],
    "reviewer": ["/inbox", "/review/versions/{version}", "/episodes/{episode}", "/"],
    "publisher": ["/releases/", "/releases/{release}", "/releases/dashboard",
                  "/releases/counties/{county}", "/account"],
    "county": ["/county/", "/account", "/account/tokens"],
    "admin": ["/admin/users", "/admin/counties", "/admin/programmes", "/episodes/{episode}",
              "/releases/{release}"],
}  # fmt: skip


def test_every_role_reads_chinese(browser, day) -> None:  # type: ignore[no-untyped-def]
    url, ids = day
    leaks: dict[str, tuple[list[str], list[str]]] = {}
    for role, paths in PAGES.items():
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        login(page, url, role)
        for path in paths:
            target = path.format(**ids)
            response = page.goto(url + target)
            assert response is not None and response.status == 200, (role, target)
            page.wait_for_load_state("networkidle")
            snake, english = visible_words(page.evaluate(VISIBLE_TEXT))
            if snake or english:
                leaks[f"{role} {target}"] = (snake, english)
                shot(page, f"chinese-{role}-{target.strip('/').replace('/', '-') or 'home'}")
        context.close()
    assert not leaks, leaks
