"""The review page and its acts over HTTP: buttons, CSRF, refusals with status and message."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from mam.models import AuditEvent, Role, VersionState
from mam.runtime import Runtime
from mam.services.users import UserService
from tests.web.conftest import PASSWORD
from tests.web.review_fixtures import ReviewWorld, make_review_world

S = VersionState


@pytest.fixture
def world(
    runtime: Runtime, client: FlaskClient, login: Callable[[str], FlaskClient]
) -> ReviewWorld:
    return make_review_world(runtime, client, login)


def page(world: ReviewWorld, version_id: int | None = None) -> str:
    response = world.client.get(f"/review/versions/{version_id or world.version_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def submit(world: ReviewWorld) -> None:
    world.as_user("producer")
    status, _ = world.post(f"/review/versions/{world.version_id}/submit")
    assert status == 302
    assert world.state() is S.IN_REVIEW


def approvals(world: ReviewWorld) -> int:
    with world.runtime.db.session() as s:
        return (
            s.scalar(select(func.count()).where(AuditEvent.action.in_(["approve", "sign_stage"])))
            or 0
        )


def test_buttons_appear_only_for_whoever_may_use_them(world: ReviewWorld) -> None:
    world.as_user("producer")
    html = page(world)
    assert 'data-testid="submit-review"' in html and 'data-testid="sign"' not in html
    submit(world)
    assert 'data-testid="submit-review"' not in page(world)
    world.as_user("reviewer2")  # 终审 waits for 初审
    html = page(world)
    assert 'data-testid="sign"' not in html and 'data-testid="request-changes"' not in html
    world.as_user("reviewer1")
    html = page(world)
    assert "Sign 初审" in html and 'data-testid="request-changes"' in html


def test_the_whole_chain_over_http(world: ReviewWorld) -> None:
    submit(world)
    world.as_user("reviewer1")
    status, _ = world.decide("sign")
    assert status == 302 and world.state() is S.IN_REVIEW
    world.as_user("reviewer2")
    assert "Approve (终审)" in page(world)
    status, _ = world.decide("sign")
    assert status == 302 and world.state() is S.APPROVED
    html = page(world)
    assert html.count("✓") == 2 and "李审片" in html and "王审片" in html


def test_a_form_without_csrf_token_is_refused(world: ReviewWorld) -> None:
    world.as_user("producer")
    status, html = world.post(f"/review/versions/{world.version_id}/submit", csrf=False)
    assert status == 400 and "form expired" in html
    assert world.state() is S.READY


def test_a_producer_posting_approve_is_forbidden(world: ReviewWorld) -> None:
    submit(world)
    status, _ = world.decide("sign")
    assert status == 403
    assert world.state() is S.IN_REVIEW
    assert approvals(world) == 0


def test_approving_a_superseded_version_is_a_conflict(world: ReviewWorld) -> None:
    submit(world)
    world.add_version(S.UPLOADED)
    world.as_user("reviewer1")
    html = page(world)
    assert 'data-testid="superseded-note"' in html and 'data-testid="sign"' not in html
    status, html = world.decide("sign")
    assert status == 409
    assert "superseded by a newer version" in html
    assert approvals(world) == 0


def test_a_stale_page_is_a_conflict_with_a_clear_message(world: ReviewWorld) -> None:
    submit(world)
    world.as_user("reviewer1")
    status, html = world.decide(
        "request-changes",
        {"reason": "字幕有误", "lock_version": "1"},
    )
    assert status == 409 and "Someone else acted on this version meanwhile" in html
    assert world.state() is S.IN_REVIEW


def test_requesting_changes_needs_a_reason(world: ReviewWorld) -> None:
    submit(world)
    world.as_user("reviewer1")
    status, html = world.decide("request-changes", {"reason": " "})
    assert status == 403 and "Please give a reason" in html
    assert world.state() is S.IN_REVIEW
    status, _ = world.decide("request-changes", {"reason": "片头字幕有错别字"})
    assert status == 302 and world.state() is S.CHANGES_REQUESTED
    world.as_user("producer")
    assert "片头字幕有错别字" in page(world)


def test_comments_and_titles_are_escaped(
    runtime: Runtime, client: FlaskClient, login: Callable[[str], FlaskClient]
) -> None:
    world = make_review_world(runtime, client, login, title="<script>alert('t')</script>")
    submit(world)
    world.as_user("reviewer1")
    status, _ = world.post(
        f"/review/versions/{world.version_id}/comments",
        {"start_tc": "00:00:05:10", "body": "<img src=x onerror=alert(1)> 字幕"},
    )
    assert status == 302
    html = page(world)
    assert "<script>alert" not in html and "&lt;script&gt;alert(" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt; 字幕" in html
    assert "00:00:05:10" in html


def test_an_overlong_comment_is_refused_with_a_message(world: ReviewWorld) -> None:
    world.as_user("reviewer1")
    status, html = world.post(
        f"/review/versions/{world.version_id}/comments",
        {"start_tc": "00:00:01:00", "body": "长" * 2001},
    )
    assert status == 400 and "too long (at most 2000 characters)" in html
    assert 'data-testid="comment"' not in page(world)


def test_comments_json_threads_resolve_and_reopen(world: ReviewWorld) -> None:
    world.as_user("reviewer1")
    token = world.token(f"/review/versions/{world.version_id}")
    url = f"/review/versions/{world.version_id}/comments"
    response = world.client.post(
        url,
        json={"start_tc": "00:00:05:10", "end_tc": "00:00:06:00", "body": "声音太小"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201
    root = response.get_json()
    assert (root["start_tc"], root["end_tc"], root["start_frame"]) == (
        "00:00:05:10",
        "00:00:06:00",
        135,
    )
    no_token = world.client.post(url, json={"start_tc": "00:00:01:00", "body": "x"})
    assert no_token.status_code == 400
    world.as_user("producer")
    status, _ = world.post(url, {"parent_id": str(root["id"]), "body": "已调整音量"})
    assert status == 302
    status, _ = world.post(f"/review/comments/{root['id']}/resolve")
    assert status == 302
    data = world.client.get(url).get_json()
    assert data["comments"][0]["resolved"] is True
    assert [r["body"] for r in data["comments"][0]["replies"]] == ["已调整音量"]
    status, _ = world.post(f"/review/comments/{root['id']}/reopen")
    assert world.client.get(url).get_json()["comments"][0]["resolved"] is False


def test_inbox_counts_what_awaits_each_user(world: ReviewWorld) -> None:
    world.as_user("producer")
    assert 'data-testid="to-submit"' in world.client.get("/inbox").get_data(as_text=True)
    submit(world)
    world.as_user("reviewer1")
    html = world.client.get("/inbox").get_data(as_text=True)
    assert 'data-testid="inbox-count">1<' in html and "乡村振兴 第1集" in html
    world.as_user("reviewer2")
    assert 'data-testid="inbox-count"' not in world.client.get("/inbox").get_data(as_text=True)
    world.as_user("reviewer1")
    world.decide("request-changes", {"reason": "重剪"})
    world.as_user("producer")
    html = world.client.get("/inbox").get_data(as_text=True)
    assert 'data-testid="changes-requested"' in html


def test_episode_page_links_versions_to_review_and_compare(world: ReviewWorld) -> None:
    v2 = world.add_version(S.READY)
    world.as_user("reviewer1")
    html = world.client.get(f"/episodes/{world.episode_id}").get_data(as_text=True)
    assert f'href="/review/versions/{v2}"' in html
    response = world.client.get(f"/review/compare?a={world.version_id}&b={v2}")
    assert response.status_code == 200 and 'data-testid="compare"' in response.get_data(
        as_text=True
    )
    response.close()


def test_a_decision_without_stage_and_lock_version_is_a_400(world: ReviewWorld) -> None:
    submit(world)
    world.as_user("reviewer1")
    for act, data in [("sign", {}), ("request-changes", {"reason": "字幕有误"})]:
        status, html = world.post(f"/review/versions/{world.version_id}/{act}", data)
        assert status == 400, act
        assert "must name the stage (stage_id) and the version&#39;s lock_version" in html
        status, html = world.post(
            f"/review/versions/{world.version_id}/{act}", {**data, "stage_id": "1"}
        )
        assert status == 400, act
    assert world.state() is S.IN_REVIEW and approvals(world) == 0


def test_a_producer_who_may_not_submit_is_told_why_and_who_may(world: ReviewWorld) -> None:
    with world.runtime.db.session() as s:
        UserService(s).create("stranger", PASSWORD, [Role.PRODUCER], display_name="赵编导")
    world.as_user("stranger")
    html = page(world)
    assert 'data-testid="submit-review"' not in html
    assert 'data-testid="submit-blocked"' in html
    blocked = html.split('data-testid="submit-blocked">')[1].split("</p>")[0]
    assert "producer-显示名" in blocked and "时代风采" in blocked
    assert 'data-testid="to-submit"' not in world.client.get("/inbox").get_data(as_text=True)
    status, html = world.post(f"/review/versions/{world.version_id}/submit")
    assert status == 403 and "producer-显示名" in html
    assert world.state() is S.READY
    world.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"  # the page speaks Chinese first
    note = "只有《时代风采》的责任制片和编辑可以修改或送审其中的节目：producer-显示名"
    assert note in page(world)
    world.as_user("producer")  # the responsible producer sees the button, not the note
    html = page(world)
    assert 'data-testid="submit-review"' in html and 'data-testid="submit-blocked"' not in html


def test_a_reviewer_without_a_stage_is_told_why_nothing_waits(world: ReviewWorld) -> None:
    """A first-day reviewer whom no administrator has granted a stage sees why their inbox
    stays empty (in Chinese), not only 'nothing awaits you'; the page title is plain text."""
    with world.runtime.db.session() as s:
        UserService(s).create("reviewer3", PASSWORD, [Role.REVIEWER], display_name="新审片")
        s.commit()
    submit(world)
    world.as_user("reviewer3")
    world.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    html = world.client.get("/inbox").get_data(as_text=True)
    assert 'data-testid="no-stages"' in html
    assert "您还没有可签署的审片环节" in html
    title = html[html.index("<title>") : html.index("</title>")]
    assert "<" not in title[len("<title>") :]
    world.as_user("reviewer1")
    assert 'data-testid="no-stages"' not in world.client.get("/inbox").get_data(as_text=True)
