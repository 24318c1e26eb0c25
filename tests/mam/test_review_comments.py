"""Timecoded comments and the audit log's read side."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy.orm import Session

from mam.errors import InvalidInput, NotAllowed
from mam.models import AuditEvent, Role
from mam.services.audit import AuditFilter, AuditService
from mam.services.comments import CommentService, comment_dict, parse_timecode, timecode
from tests import factories
from tests.mam.review_helpers import make_world


def test_timecodes_are_frame_accurate() -> None:
    assert parse_timecode("00:00:05:10", 25) == 135
    assert timecode(135, 25) == "00:00:05:10"
    assert timecode(parse_timecode("01:02:03:24", 25), 25) == "01:02:03:24"
    assert timecode(30, 29.97) == "00:00:01:00"
    with pytest.raises(InvalidInput):
        parse_timecode("00:00:05:25", 25)  # frame 25 does not exist at 25 fps
    with pytest.raises(InvalidInput):
        parse_timecode("5s", 25)


def test_comments_at_points_and_ranges_with_threads(session: Session) -> None:
    world = make_world(session)
    v = world.in_review()
    comments = CommentService(session)
    late = comments.add(v.id, world.first, "声音偏小", start_frame=250, end_frame=300)
    early = comments.add(v.id, world.first, "字幕错别字", start_frame=135)
    reply = comments.add(v.id, world.producer, "已修改", parent_id=early.id)
    comments.add(
        v.id, world.first, "谢谢", parent_id=reply.id
    )  # a reply to a reply joins the thread
    threads = comments.threads(v.id)
    assert [c.id for c in threads] == [early.id, late.id]  # timeline order
    data = comment_dict(threads[0], 25)
    assert data["start_tc"] == "00:00:05:10" and data["end_tc"] is None
    assert [r["body"] for r in data["replies"]] == ["已修改", "谢谢"]
    assert comment_dict(threads[1], 25)["end_tc"] == "00:00:12:00"


def test_resolve_and_reopen(session: Session) -> None:
    world = make_world(session)
    v = world.in_review()
    comments = CommentService(session)
    c = comments.add(v.id, world.first, "色彩偏暗", start_frame=10)
    comments.resolve(c.id, world.producer)
    assert c.resolved and c.resolved_by_id == world.producer.id
    comments.reopen(c.id, world.first)
    assert not c.resolved
    reply = comments.add(v.id, world.producer, "ok", parent_id=c.id)
    with pytest.raises(InvalidInput):
        comments.resolve(reply.id, world.producer)


@pytest.mark.parametrize(
    ("body", "kwargs", "message"),
    [
        ("x" * 2001, {"start_frame": 1}, "longer than 2000"),
        ("   ", {"start_frame": 1}, "empty"),
        ("no point", {}, "point in the film"),
        ("backwards", {"start_frame": 10, "end_frame": 5}, "ends before"),
    ],
)
def test_bad_comments_are_refused(session: Session, body: str, kwargs: dict, message: str) -> None:
    world = make_world(session)
    v = world.in_review()
    with pytest.raises(InvalidInput, match=message):
        CommentService(session).add(v.id, world.first, body, **kwargs)
    assert CommentService(session).threads(v.id) == []


def test_publishers_do_not_comment(session: Session) -> None:
    world = make_world(session)
    v = world.in_review()
    publisher = factories.user(session, Role.PUBLISHER)
    with pytest.raises(NotAllowed):
        CommentService(session).add(v.id, publisher, "hi", start_frame=1)


def test_audit_filters_history_and_csv(session: Session) -> None:
    world = make_world(session)
    v = world.in_review()
    world.request_changes(v, world.first, '=HYPERLINK("http://x")')
    audit = AuditService(session)
    mine = audit.events(AuditFilter(actor=world.first.username))
    assert {e.action for e in mine} == {"request_changes"}
    assert [e.action for e in audit.episode_history(world.episode.id)] == [
        "submit",
        "request_changes",
    ]
    assert audit.events(AuditFilter(action="submit", object_id=v.id))[0].actor_id == (
        world.producer.id
    )
    text = "".join(audit.csv_lines(AuditFilter(object_type="version")))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["What"] for r in rows] == ["Changes requested", "Submitted for review"]
    assert rows[0]["Username"] == world.first.username
    assert rows[0]["Why"].startswith("'=")  # no formula in a spreadsheet
    assert not hasattr(audit, "delete") and isinstance(mine[0], AuditEvent)
