"""Per-user API tokens: shown once, stored only as a SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import InvalidInput, NotFound
from mam.models import AuditEvent, User, utcnow
from mam.models.catalogue import ApiToken

PREFIX = "mam_"
_TOUCH_EVERY = timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenService:
    """Issue, list, check and revoke API tokens."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def issue(self, user: User, name: str) -> tuple[str, ApiToken]:
        """Create a token for ``user``; return the secret (never stored) and its row."""
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise InvalidInput("a token needs a name of 1-100 characters", field="name")
        secret = PREFIX + secrets.token_urlsafe(32)
        row = ApiToken(user_id=user.id, name=name, token_hash=_digest(secret), prefix=secret[:12])
        self.session.add(row)
        self.session.flush()
        self.session.add(
            AuditEvent(
                actor_id=user.id,
                action="issue_api_token",
                object_type="api_token",
                object_id=row.id,
                details={"name": name},
            )
        )
        self.session.commit()
        return secret, row

    def tokens(self, user: User) -> list[ApiToken]:
        """Return the user's tokens that are not revoked, newest first."""
        return list(
            self.session.scalars(
                select(ApiToken)
                .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                .order_by(ApiToken.id.desc())
            )
        )

    def authenticate(self, secret: str) -> User | None:
        """Return the active user owning ``secret``, or None."""
        if not secret.startswith(PREFIX) or len(secret) > 200:
            return None
        row = self.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
        if row is None or row.revoked_at is not None or not row.user.active:
            return None
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
            row.last_used_at = now
            self.session.commit()
        return row.user

    def revoke(self, user: User, token_id: int) -> None:
        """Revoke one of ``user``'s tokens."""
        row = self.session.get(ApiToken, token_id)
        if row is None or row.user_id != user.id or row.revoked_at is not None:
            raise NotFound(f"token {token_id} does not exist")
        row.revoked_at = utcnow()
        self.session.add(
            AuditEvent(
                actor_id=user.id,
                action="revoke_api_token",
                object_type="api_token",
                object_id=row.id,
            )
        )
        self.session.commit()
