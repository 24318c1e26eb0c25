"""Timecoded review comments: at a frame or over a range, threaded, resolved and reopened."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam import inputs
from mam.audit import AuditAction, ObjectType, record
from mam.errors import InvalidInput, NotAllowed, NotFound
from mam.messages import catalogue, review
from mam.models import Role, User, Version, utcnow
from mam.models.review import Comment
from mam.probe import MediaInfo

MAX_COMMENT = 2000
COMMENTERS = (Role.REVIEWER, Role.PRODUCER, Role.ADMIN)
DEFAULT_FPS = 25.0


def version_fps(version: Version) -> float:
    """Return the frame rate the review copy plays at (the proxy's, else the source's)."""
    proxy = version.rendition("proxy")
    for info in (proxy.media_info if proxy else None, version.asset.media_info):
        if not info:
            continue
        try:
            video = MediaInfo.from_dict(info).primary_video
        except (KeyError, TypeError, ValueError):
            continue
        if video is not None and video.fps > 0:
            return video.fps
    return DEFAULT_FPS


def timecode(frame: int, fps: float) -> str:
    """Format a frame number as HH:MM:SS:FF (non-drop-frame at the rounded rate)."""
    base = max(round(fps), 1)
    seconds, ff = divmod(max(frame, 0), base)
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}"


def parse_timecode(text: str, fps: float) -> int:
    """Turn HH:MM:SS:FF into a frame number."""
    parts = text.strip().split(":")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        raise InvalidInput(review.TIMECODE_FORMAT, params={"timecode": text}, rule="timecode")
    hh, mm, ss, ff = (int(p) for p in parts)
    base = max(round(fps), 1)
    if mm > 59 or ss > 59 or ff >= base:
        raise InvalidInput(review.TIMECODE_RANGE, params={"timecode": text}, rule="timecode")
    return ((hh * 60 + mm) * 60 + ss) * base + ff


def clean_body(body: str | None) -> str:
    """Normalise a comment: NFC, trimmed, no control characters but newlines, bounded."""
    text = inputs.optional_text(body, "comment", 10 * MAX_COMMENT, multiline=True)
    if not text:
        raise InvalidInput(review.EMPTY, rule="empty")
    if len(text) > MAX_COMMENT:
        raise InvalidInput(
            review.COMMENT_TOO_LONG,
            params={"limit": MAX_COMMENT, "length": len(text)},
            rule="too_long",
            limit=MAX_COMMENT,
        )
    return text


class CommentService:
    """Add, list, resolve and reopen comments on a version."""

    def __init__(self, session: Session, storage: object | None = None) -> None:
        self.session = session
        self.storage = storage

    def threads(self, version_id: int) -> list[Comment]:
        """Return the root comments of a version in timeline order, replies loaded."""
        return list(
            self.session.scalars(
                select(Comment)
                .where(Comment.version_id == version_id, Comment.parent_id.is_(None))
                .order_by(Comment.start_frame, Comment.id)
            )
        )

    def add(
        self,
        version_id: int,
        author: User,
        body: str | None,
        *,
        start_frame: int | None = None,
        end_frame: int | None = None,
        parent_id: int | None = None,
    ) -> Comment:
        """Add a comment at a frame (or range), or a reply to a thread."""
        self._check_role(author)
        text = clean_body(body)
        version = self.session.get(Version, version_id)
        if version is None:
            raise NotFound(catalogue.VERSION_MISSING, params={"id": version_id})
        if parent_id is not None:
            parent = self._comment(parent_id)
            if parent.version_id != version_id:
                raise InvalidInput(review.OTHER_VERSION, rule="thread")
            root = parent.parent or parent  # replies to replies join the thread
            comment = Comment(version_id=version_id, parent=root, author=author, body=text)
        else:
            if start_frame is None or start_frame < 0:
                raise InvalidInput(review.NEEDS_POINT, rule="timecode")
            if end_frame is not None and end_frame < start_frame:
                raise InvalidInput(review.RANGE, rule="range")
            last = self._last_frame(version)
            if last is not None and max(start_frame, end_frame or 0) > last:
                raise InvalidInput(review.AFTER_END, rule="timecode")
            comment = Comment(
                version_id=version_id,
                author=author,
                body=text,
                start_frame=start_frame,
                end_frame=end_frame if end_frame != start_frame else None,
            )
        self.session.add(comment)
        self.session.flush()
        record(
            self.session, AuditAction.COMMENT_ADDED, author, ObjectType.VERSION, version_id,
            details={"comment_id": comment.id, "reply_to": parent_id,
                     "start_frame": comment.start_frame},
        )  # fmt: skip
        return comment

    def resolve(self, comment_id: int, user: User) -> Comment:
        """Mark a thread resolved."""
        return self._set_resolved(comment_id, user, resolved=True)

    def reopen(self, comment_id: int, user: User) -> Comment:
        """Open a resolved thread again."""
        return self._set_resolved(comment_id, user, resolved=False)

    def _set_resolved(self, comment_id: int, user: User, *, resolved: bool) -> Comment:
        self._check_role(user)
        comment = self._comment(comment_id)
        if comment.parent_id is not None:
            raise InvalidInput(review.WHOLE_THREAD, rule="thread")
        comment.resolved_at = utcnow() if resolved else None
        comment.resolved_by_id = user.id if resolved else None
        record(
            self.session,
            AuditAction.COMMENT_RESOLVED if resolved else AuditAction.COMMENT_REOPENED,
            user, ObjectType.VERSION, comment.version_id, details={"comment_id": comment.id},
        )  # fmt: skip
        self.session.flush()
        return comment

    def _comment(self, comment_id: int) -> Comment:
        comment = self.session.get(Comment, comment_id)
        if comment is None:
            raise NotFound(review.COMMENT_MISSING, params={"id": comment_id})
        return comment

    def _last_frame(self, version: Version) -> int | None:
        duration = (version.asset.media_info or {}).get("duration")
        if not duration:
            return None
        return int(float(duration) * version_fps(version)) + 1

    @staticmethod
    def _check_role(user: User) -> None:
        if not user.has_role(*COMMENTERS):
            raise NotAllowed(review.WHO_COMMENTS, rule="role")


def comment_dict(comment: Comment, fps: float) -> dict[str, Any]:
    """Return a comment thread as JSON-able data (text is escaped by whoever renders it)."""
    return {
        "id": comment.id,
        "author": comment.author.display_name,
        "body": comment.body,
        "start_frame": comment.start_frame,
        "end_frame": comment.end_frame,
        "start_tc": timecode(comment.start_frame, fps) if comment.start_frame is not None else None,
        "end_tc": timecode(comment.end_frame, fps) if comment.end_frame is not None else None,
        "start_seconds": comment.start_frame / fps if comment.start_frame is not None else None,
        "resolved": comment.resolved,
        "created_at": comment.created_at.isoformat(),
        "replies": [comment_dict(r, fps) for r in comment.replies],
    }
