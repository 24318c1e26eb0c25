"""The review page's fetch requests: comment acts answer JSON with the page fragments that
show them (escaped), decisions answer JSON (refusal with its reason, or where to go)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from mam.models import VersionState
from mam.runtime import Runtime
from tests.web.review_fixtures import ReviewWorld, make_review_world
from tests.web.test_review_page import submit

JSON = {"Accept": "application/json"}


@pytest.fixture
def world(
    runtime: Runtime, client: FlaskClient, login: Callable[[str], FlaskClient]
) -> ReviewWorld:
    return make_review_world(runtime, client, login)


def fetch(world: ReviewWorld, url: str, data: dict[str, str] | None = None) -> Any:
    """POST ``data`` as the page's script does: form fields, Accept JSON, the CSRF header."""
    token = world.token(f"/review/versions/{world.version_id}")
    return world.client.post(url, data=data or {}, headers={**JSON, "X-CSRFToken": token})


def test_a_comment_answers_with_its_thread_and_the_fragments_to_show(world: ReviewWorld) -> None:
    world.as_user("reviewer1")
    url = f"/review/versions/{world.version_id}/comments"
    r = fetch(world, url, {"start_tc": "00:00:05:10", "body": "<img src=x onerror=alert(1)> 字幕"})
    assert r.status_code == 201
    thread = r.get_json()
    assert thread["start_tc"] == "00:00:05:10"
    html = thread["html"]
    assert html["count"] == "1 thread"
    assert html["threads"].count('data-testid="comment"') == 1
    assert "<img src=x" not in html["threads"]
    assert "&lt;img src=x onerror=alert(1)&gt; 字幕" in html["threads"]
    assert html["markers"].count('data-testid="comment-marker"') == 1
    assert 'data-seek="5.4"' in html["markers"]

    r = fetch(world, url, {"parent_id": str(thread["id"]), "body": "已改"})
    assert r.status_code == 201 and r.get_json()["id"] == thread["id"]  # the whole thread
    assert [c["body"] for c in r.get_json()["replies"]] == ["已改"]
    r = fetch(world, f"/review/comments/{thread['id']}/resolve")
    assert r.status_code == 200 and r.get_json()["resolved"] is True
    assert 'data-resolved="true"' in r.get_json()["html"]["threads"]
    assert "marker resolved" in r.get_json()["html"]["markers"]
    r = fetch(world, f"/review/comments/{thread['id']}/reopen")
    assert r.status_code == 200 and r.get_json()["resolved"] is False


def test_a_refused_comment_act_answers_json_with_the_reason(world: ReviewWorld) -> None:
    world.as_user("reviewer1")
    r = fetch(world, f"/review/versions/{world.version_id}/comments", {"start_tc": "00:00:01:00"})
    assert r.status_code == 400 and r.get_json()["error"] == "The comment is empty."


def test_a_decision_answers_json(world: ReviewWorld) -> None:
    submit(world)
    world.as_user("reviewer1")
    url = f"/review/versions/{world.version_id}/request-changes"
    r = fetch(world, url, {**world.shown(), "reason": "  "})
    assert r.status_code == 403 and r.get_json()["error"] == "Please give a reason."
    assert world.state() is VersionState.IN_REVIEW
    r = fetch(world, url, {**world.shown(), "reason": "片头字幕有错别字"})
    assert r.status_code == 200
    assert r.get_json()["location"] == f"/review/versions/{world.version_id}"
    assert world.state() is VersionState.CHANGES_REQUESTED
