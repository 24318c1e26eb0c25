"""Server-side sign-in sessions: started at sign-in, checked on every request, ended on
sign-out, a password change, deactivation or an administrator's "sign out everywhere".

The browser's cookie carries a random token; the database keeps only its SHA-256, so a
copy of the database does not open anyone's session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mam.audit import AuditAction, ObjectType, record
from mam.models import User, utcnow
from mam.models.auth import LoginSession

KEEP_ENDED = timedelta(days=30)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionService:
    """Start, check and end sign-in sessions (the caller commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def start(self, user: User, *, ip: str | None = None, user_agent: str | None = None) -> str:
        """Record a new sign-in of ``user``; return the token for the cookie."""
        token = secrets.token_urlsafe(32)
        # Forget this user's sessions that ended long ago (the audit log keeps the acts).
        self.session.execute(
            delete(LoginSession).where(
                LoginSession.user_id == user.id,
                LoginSession.ended_at < utcnow() - KEEP_ENDED,
            )
        )
        self.session.add(
            LoginSession(
                token_sha256=_digest(token),
                user_id=user.id,
                ip=(ip or "")[:64] or None,
                user_agent=(user_agent or "")[:200] or None,
            )
        )
        record(
            self.session, AuditAction.LOGIN, user, ObjectType.USER, user.id, details={"ip": ip}
        )
        return token

    def sign_in_failed(self, username: str, ip: str | None) -> None:
        """Record a failed sign-in (the rate limit counts these rows)."""
        record(
            self.session, AuditAction.LOGIN_FAILED, None, ObjectType.USER, None,
            details={"username": username[:64], "ip": ip},
        )  # fmt: skip

    def find(self, user_id: int, token: str | None) -> LoginSession | None:
        """Return the open session of ``user_id`` with ``token``, if there is one."""
        if not token:
            return None
        row = self.session.scalar(
            select(LoginSession).where(LoginSession.token_sha256 == _digest(token))
        )
        if row is None or row.user_id != user_id or row.ended_at is not None:
            return None
        return row

    def open_sessions(self, user: User) -> list[LoginSession]:
        """Return ``user``'s sessions that have not ended, newest first."""
        return list(
            self.session.scalars(
                select(LoginSession)
                .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
                .order_by(LoginSession.id.desc())
            )
        )

    def end(self, token: str | None, reason: str = "logout", *, ip: str | None = None) -> bool:
        """End the session with ``token`` (audited as its user signing out); say whether
        one was open."""
        if not token:
            return False
        row = self.session.scalar(
            select(LoginSession).where(LoginSession.token_sha256 == _digest(token))
        )
        if row is None or row.ended_at is not None:
            return False
        row.ended_at, row.end_reason = utcnow(), reason
        record(
            self.session, AuditAction.LOGOUT, self.session.get(User, row.user_id), ObjectType.USER,
            row.user_id,
            reason=None if reason == "logout" else reason, details={"ip": ip},
        )  # fmt: skip
        return True

    def end_all(
        self,
        user: User,
        *,
        reason: str,
        actor: User | None = None,
        keep: str | None = None,
    ) -> int:
        """End every open session of ``user`` (but the one with token ``keep``); audit it."""
        kept = _digest(keep) if keep else None
        now = utcnow()
        ended = 0
        for row in self.open_sessions(user):
            if row.token_sha256 != kept:
                row.ended_at, row.end_reason = now, reason
                ended += 1
        record(
            self.session, AuditAction.SESSIONS_ENDED, actor, ObjectType.USER, user.id,
            reason=reason, details={"ended": ended, "kept_current": kept is not None},
        )  # fmt: skip
        return ended
