"""Per-user API tokens: shown once, stored only as a SHA-256, scoped, optionally expiring."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.audit import AuditAction, ObjectType, record
from mam.errors import InvalidInput, NotFound
from mam.i18n import N_
from mam.models import User, utcnow
from mam.models.catalogue import ApiToken

PREFIX = "mam_"
_TOUCH_EVERY = timedelta(minutes=5)

# What a token may be used for. ``api`` acts as the user everywhere tokens are accepted
# (the JSON API, tus uploads, the county feeds and downloads); ``county:download`` only
# reads the county's feeds and release list, downloads packages and confirms receipts.
SCOPE_API = "api"
SCOPE_COUNTY = "county:download"
SCOPES = (SCOPE_API, SCOPE_COUNTY)
MAX_EXPIRY_DAYS = 3650


@dataclass(frozen=True)
class TokenCheck:
    """The outcome of checking a presented token: the user and scopes, or why not."""

    user: User | None
    scopes: frozenset[str] = frozenset()
    reason: str | None = None  # "unknown" or "expired" when user is None
    token: ApiToken | None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def clean_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Return the known scopes in canonical order; refuse unknown or none."""
    wanted = {s.strip() for s in scopes if s and s.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise InvalidInput(
            N_("Unknown token scope: %(scope)s"),
            params={"scope": ", ".join(unknown)},
            field="scopes",
        )
    if not wanted:
        raise InvalidInput(N_("Choose at least one scope for the token."), field="scopes")
    return tuple(s for s in SCOPES if s in wanted)


class TokenService:
    """Issue, list, check and revoke API tokens."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def issue(
        self,
        user: User,
        name: str,
        *,
        scopes: Iterable[str] = (SCOPE_API,),
        expires_in_days: int | None = None,
    ) -> tuple[str, ApiToken]:
        """Create a token for ``user``; return the secret (never stored) and its row."""
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise InvalidInput(N_("A token needs a name of 1-100 characters."), field="name")
        chosen = clean_scopes(scopes)
        if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
            raise InvalidInput(
                N_("A token expires after 1 to %(max)s days, or never."),
                params={"max": MAX_EXPIRY_DAYS},
                field="expires",
            )
        secret = PREFIX + secrets.token_urlsafe(32)
        row = ApiToken(
            user_id=user.id,
            name=name,
            token_hash=_digest(secret),
            prefix=secret[:12],
            scopes=" ".join(chosen),
            expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        self.session.add(row)
        self.session.flush()
        record(
            self.session,
            AuditAction.ISSUE_API_TOKEN,
            user,
            ObjectType.API_TOKEN,
            row.id,
            details={
                "name": name,
                "scopes": list(chosen),
                "expires_at": row.expires_at.isoformat() if row.expires_at else None,
            },
        )
        self.session.flush()
        return secret, row

    def tokens(self, user: User) -> list[ApiToken]:
        """Return the user's tokens that are not revoked (expired ones too), newest first."""
        return list(
            self.session.scalars(
                select(ApiToken)
                .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                .order_by(ApiToken.id.desc())
            )
        )

    def check(self, secret: str) -> TokenCheck:
        """Return who ``secret`` signs in, with its scopes, or why it does not."""
        if not secret.startswith(PREFIX) or len(secret) > 200:
            return TokenCheck(None, reason="unknown")
        row = self.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
        if row is None or row.revoked_at is not None or not row.user.active:
            return TokenCheck(None, reason="unknown")
        now = utcnow()
        if row.expires_at is not None and row.expires_at <= now:
            return TokenCheck(None, reason="expired", token=row)
        if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
            row.last_used_at = now
            self.session.flush()
        return TokenCheck(row.user, row.scope_set, token=row)

    def authenticate(self, secret: str) -> User | None:
        """Return the active user owning ``secret`` (a valid, unexpired token), or None."""
        return self.check(secret).user

    def revoke(self, user: User, token_id: int) -> None:
        """Revoke one of ``user``'s tokens."""
        row = self.session.get(ApiToken, token_id)
        if row is None or row.user_id != user.id or row.revoked_at is not None:
            raise NotFound(N_("Token %(id)s does not exist."), params={"id": token_id})
        row.revoked_at = utcnow()
        record(
            self.session, AuditAction.REVOKE_API_TOKEN, user, ObjectType.API_TOKEN, row.id,
            details={"name": row.name},
        )  # fmt: skip
        self.session.flush()
