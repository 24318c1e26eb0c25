"""Accounts: creation, roles and password checks (argon2id hashes)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam import inputs
from mam.errors import Conflict, InvalidInput, NotFound
from mam.models import AuditEvent, County, Role, User, UserRole

_hasher = PasswordHasher()  # argon2id, the library's RFC 9106 low-memory defaults
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
MIN_PASSWORD = 10
_dummy_hash: str | None = None


def _dummy() -> str:
    """Return a hash to verify against when the user does not exist (same timing)."""
    global _dummy_hash  # noqa: PLW0603 - computed once, lazily (argon2 costs 64 MB)
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not-a-real-password")
    return _dummy_hash


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher.hash(password)


def parse_roles(names: Iterable[str]) -> set[Role]:
    """Turn role names into roles; the system role cannot be granted to a person."""
    roles: set[Role] = set()
    for name in names:
        try:
            role = Role(name.strip().lower())
        except ValueError:
            valid = ", ".join(r.value for r in Role if r is not Role.SYSTEM)
            raise InvalidInput(f"unknown role {name!r}; valid roles: {valid}") from None
        if role is Role.SYSTEM:
            raise InvalidInput("the system role belongs to the workers and cannot be granted")
        roles.add(role)
    return roles


class UserService:
    """Create users, grant roles, authenticate."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_username(self, username: str) -> User | None:
        """Return the user with ``username``, if any."""
        return self.session.scalar(select(User).where(User.username == username))

    def create(
        self,
        username: str,
        password: str,
        roles: Iterable[Role],
        *,
        display_name: str | None = None,
        county_code: str | None = None,
        actor: User | None = None,
    ) -> User:
        """Create an account; a county account must name its county."""
        if not USERNAME.match(username):
            raise InvalidInput("username: 2-64 letters, digits, '.', '_' or '-'")
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(f"password must have at least {MIN_PASSWORD} characters")
        if self.by_username(username) is not None:
            raise Conflict(f"user {username!r} already exists")
        roles = set(roles)
        county = None
        if county_code:
            county = self.session.scalar(select(County).where(County.code == county_code))
            if county is None:
                raise NotFound(f"county {county_code!r} does not exist")
        if Role.COUNTY in roles and county is None:
            raise InvalidInput("a county account must be bound to a county (--county)")
        user = User(
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password),
            county=county,
            role_rows=[UserRole(role=r) for r in sorted(roles)],
        )
        self.session.add(user)
        self.session.flush()
        self._audit(actor, user, "user_created", sorted(r.value for r in roles))
        self.session.commit()
        return user

    def set_roles(self, user: User, roles: Iterable[Role], *, actor: User | None = None) -> None:
        """Replace a user's roles (audited)."""
        roles = set(roles)
        if Role.COUNTY in roles and user.county_id is None:
            raise InvalidInput("a county account must be bound to a county")
        before = sorted(r.value for r in user.roles)
        # Delete first, then insert: replacing the list would insert before the orphan
        # delete and trip the (user, role) unique constraint.
        for row in [r for r in user.role_rows if r.role not in roles]:
            user.role_rows.remove(row)
        self.session.flush()
        user.role_rows.extend(UserRole(role=r) for r in sorted(roles - user.roles))
        self.session.flush()
        self._audit(actor, user, "roles_changed", sorted(r.value for r in roles), before)
        self.session.commit()

    def authenticate(self, username: str, password: str) -> User | None:
        """Return the active user whose password matches, else None."""
        user = self.by_username(username)
        try:
            _hasher.verify(user.password_hash if user else _dummy(), password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or not user.active:
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
            self.session.commit()
        return user

    def ensure_county(self, code: str, name: str) -> County:
        """Return the county with ``code``, creating it if missing."""
        code, name = inputs.clean_text(code, "code", 32), inputs.clean_text(name, "name", 100)
        county = self.session.scalar(select(County).where(County.code == code))
        if county is None:
            county = County(code=code, name=name)
            self.session.add(county)
            self.session.commit()
        return county

    def _audit(
        self,
        actor: User | None,
        user: User,
        action: str,
        roles: list[str],
        before: list[str] | None = None,
    ) -> None:
        self.session.add(
            AuditEvent(
                actor_id=actor.id if actor else None,
                action=action,
                object_type="user",
                object_id=user.id,
                details={"roles": roles, "before": before or []},
            )
        )
