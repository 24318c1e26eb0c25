"""The subtitle editor over HTTP: the programme's producer edits (operations answered with
frame-snapped cues, saves as revisions), reviewers only read, refusals are 400s in the
reader's language, CSRF is required, and the catalogue search finds a word of a cue with a
link that opens the review player at the cue's time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from mam.runtime import Runtime
from tests.web.review_fixtures import ReviewWorld, make_review_world


@pytest.fixture
def world(
    runtime: Runtime, client: FlaskClient, login: Callable[[str], FlaskClient]
) -> ReviewWorld:
    return make_review_world(runtime, client, login)


def send(world: ReviewWorld, url: str, body: Any, *, csrf: bool = True, lang: str = "en"):  # type: ignore[no-untyped-def]
    headers = {"Accept": "application/json", "Accept-Language": lang}
    if csrf:
        headers["X-CSRFToken"] = world.token()
    return world.client.post(url, json=body, headers=headers)


def test_the_producer_edits_reviewers_read(world: ReviewWorld) -> None:
    base = f"/review/versions/{world.version_id}/subtitles"
    world.as_user("producer")
    cues = [{"start": "00:00:01.000", "end": "00:00:03.000", "text": "大家好"}]
    # Split at 2.03 s: 25 fps (the version has no probe: the default), frame 50 starts at 2.0 s.
    got = send(
        world, f"{base}/zh/apply", {"op": "split", "cues": cues, "at": 2.03, "selected": [0]}
    )
    assert got.status_code == 200
    assert got.json["cues"] == [
        {"start": 1.0, "end": 2.0, "text": "大家好"}, {"start": 2.0, "end": 3.0, "text": "大家好"},
    ]  # fmt: skip
    bad = [*cues, {"start": 2.5, "end": 4, "text": "今天讲基层党建工作"}]
    refused = send(world, f"{base}/zh", {"cues": bad}, lang="zh-CN")
    assert refused.status_code == 400
    assert refused.json["code"] == "subtitles.cue_overlap"
    assert refused.json["message"] == "第 2 条字幕在第 1 条结束（00:00:03.000）之前开始。"
    assert send(world, f"{base}/zh", {"cues": cues}, csrf=False).status_code == 400
    good = [*cues, {"start": 3.6, "end": 4, "text": "今天讲基层党建工作"}]
    saved = send(world, f"{base}/zh", {"cues": good})
    assert saved.status_code == 200 and saved.json["revision"] == 1
    assert world.client.get(f"{base}/zh.vtt").get_data(as_text=True) == (
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n大家好\n\n"
        "00:00:03.600 --> 00:00:04.000\n今天讲基层党建工作\n"
    )
    assert send(world, f"{base}/zh", {"cues": good}).json["revision"] == 2
    # A reviewer reads the cues and the track, and may not change them.
    world.as_user("reviewer1")
    assert world.client.get(f"{base}/zh/cues").json["cues"][1]["text"] == "今天讲基层党建工作"
    assert send(world, f"{base}/zh", {"cues": good}).status_code == 403
    assert send(world, f"{base}/zh/apply", {"op": "add", "cues": []}).status_code == 403
    # Search: a Chinese word inside a cue finds the episode at the cue's time.
    page = world.client.get("/search?q=党建").get_data(as_text=True)
    assert f'href="/review/versions/{world.version_id}?t=3.600">0:00:03.6</a>' in page
    assert "今天讲基层党建工作" in page


@pytest.mark.parametrize(
    "body",
    [None, [], {"cues": "x"}, {"cues": [{"start": "1:xx", "end": 2, "text": "a"}]},
     {"cues": [{"start": 1, "end": 2, "text": 5}]}, {"op": "split", "cues": [], "selected": [0]}],
)  # fmt: skip
def test_bad_input_is_a_clear_400(world: ReviewWorld, body: Any) -> None:
    world.as_user("producer")
    base = f"/review/versions/{world.version_id}/subtitles/zh"
    for url in (base, f"{base}/apply"):
        got = send(world, url, body)
        assert got.status_code == 400, (url, body)
        assert got.json["error"]
    assert (
        world.client.get(f"/review/versions/{world.version_id}/subtitles/%3Cb%3E.vtt").status_code
        == 404
    )
