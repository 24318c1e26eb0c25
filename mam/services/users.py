"""Accounts: creation, roles and password checks (argon2id hashes)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from mam import inputs
from mam.audit import AuditAction, ObjectType, record
from mam.errors import Conflict, InvalidInput, NotAllowed, NotFound
from mam.i18n import N_
from mam.messages import accounts
from mam.models import County, Role, User, UserRole, utcnow
from mam.services.sessions import SessionService

_hasher = PasswordHasher()  # argon2id, the library's RFC 9106 low-memory defaults
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
MIN_STRENGTH = 3  # zxcvbn's score, 0-4: 3 is "safely unguessable" (about 10^8 guesses)
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


def check_strength(password: str, user: User | None = None) -> None:
    """Refuse a password that is short or easy to guess (for this user)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            N_("The password must have at least %(n)d characters."),
            params={"n": MIN_PASSWORD},
            rule="password_short",
        )
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(
            N_("The password must have at most %(n)d characters."),
            params={"n": MAX_PASSWORD},
            rule="password_long",
        )
    hints = [user.username, user.display_name] if user is not None else []
    if zxcvbn(password, user_inputs=hints)["score"] < MIN_STRENGTH:
        raise InvalidInput(
            N_(
                "This password is too easy to guess (a common word, a name, a date or a "
                "sequence). Use several unrelated words or a longer mix of characters."
            ),
            rule="password_weak",
        )


def generate_password() -> str:
    """Return a random temporary password (16 characters, easy to read out)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def parse_roles(names: Iterable[str]) -> set[Role]:
    """Turn role names into roles; the system role cannot be granted to a person."""
    roles: set[Role] = set()
    for name in names:
        try:
            role = Role(name.strip().lower())
        except ValueError:
            valid = ", ".join(r.value for r in Role if r not in (Role.SYSTEM, Role.LEARNER))
            raise InvalidInput(
                accounts.ROLE_UNKNOWN, params={"role": name, "valid": valid}
            ) from None
        if role is Role.SYSTEM:
            raise InvalidInput(accounts.ROLE_SYSTEM)
        if role is Role.LEARNER:
            raise InvalidInput(accounts.ROLE_LEARNER)
        roles.add(role)
    return roles


def _check_learner(roles: set[Role]) -> None:
    """Keep learners out of staff pages for good: a learner holds no other role."""
    if Role.LEARNER in roles and len(roles) > 1:
        raise InvalidInput(accounts.LEARNER_ALONE)


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
            raise InvalidInput(accounts.USERNAME_FORMAT)
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(accounts.PASSWORD_SHORT, params={"n": MIN_PASSWORD})
        if self.by_username(username) is not None:
            raise Conflict(accounts.USER_EXISTS, params={"user": username})
        roles = set(roles)
        _check_learner(roles)
        county = None
        if county_code:
            county = self.session.scalar(select(County).where(County.code == county_code))
            if county is None:
                raise NotFound(accounts.COUNTY_MISSING, params={"county": county_code})
        if Role.COUNTY in roles and county is None:
            raise InvalidInput(accounts.COUNTY_REQUIRED)
        user = User(
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password),
            county=county,
            role_rows=[UserRole(role=r) for r in sorted(roles)],
        )
        self.session.add(user)
        self.session.flush()
        self._audit(actor, user, AuditAction.USER_CREATED, sorted(r.value for r in roles))
        self.session.flush()
        return user

    def set_roles(self, user: User, roles: Iterable[Role], *, actor: User | None = None) -> None:
        """Replace a user's roles (audited)."""
        roles = set(roles)
        _check_learner(roles | ({Role.LEARNER} & user.roles))
        if Role.COUNTY in roles and user.county_id is None:
            raise InvalidInput(accounts.COUNTY_REQUIRED)
        if Role.TOWNSHIP in roles and user.township_id is None:
            raise InvalidInput(accounts.TOWNSHIP_REQUIRED)
        before = sorted(r.value for r in user.roles)
        # Delete first, then insert: replacing the list would insert before the orphan
        # delete and trip the (user, role) unique constraint.
        for row in [r for r in user.role_rows if r.role not in roles]:
            user.role_rows.remove(row)
        self.session.flush()
        user.role_rows.extend(UserRole(role=r) for r in sorted(roles - user.roles))
        self.session.flush()
        self._audit(actor, user, AuditAction.ROLES_CHANGED, sorted(r.value for r in roles), before)
        self.session.flush()

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
            self.session.flush()
        return user

    def verify(self, user: User, password: str) -> bool:
        """Say whether ``password`` is ``user``'s password."""
        try:
            return bool(_hasher.verify(user.password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    def change_password(
        self, user: User, current: str, new: str, *, keep_session: str | None = None
    ) -> int:
        """Replace ``user``'s password after checking the current one; end their other
        sessions (all but ``keep_session``); return how many ended. Commits."""
        if not self.verify(user, current):
            raise NotAllowed(N_("The current password is wrong."), rule="password_wrong")
        if new == current:
            raise InvalidInput(
                N_("The new password must differ from the current one."), rule="password_same"
            )
        check_strength(new, user)
        self._set_password(user, new, temporary=False)
        ended = SessionService(self.session).end_all(
            user, reason="password_changed", actor=user, keep=keep_session
        )
        self._audit(user, user, AuditAction.PASSWORD_CHANGED, sorted(r.value for r in user.roles))
        self.session.flush()
        return ended

    def reset_password(
        self, user: User, *, actor: User | None, password: str | None = None
    ) -> str:
        """Set a password for ``user`` and end all their sessions; return the password.

        Without ``password`` a random temporary one is made, which must be changed at the
        next sign-in. Commits.
        """
        temporary = password is None
        if password is None:
            password = generate_password()
        else:
            check_strength(password, user)
        self._set_password(user, password, temporary=temporary)
        SessionService(self.session).end_all(user, reason="password_reset", actor=actor)
        record(
            self.session, AuditAction.PASSWORD_RESET, actor, ObjectType.USER, user.id,
            details={"temporary": temporary},
        )  # fmt: skip
        self.session.flush()
        return password

    def update_account(
        self, user: User, *, active: bool, email: str | None, actor: User | None
    ) -> None:
        """Change whether ``user`` may sign in and their e-mail; audit it (no commit)."""
        if active == user.active and email == user.email:
            return
        record(
            self.session, AuditAction.USER_CHANGED, actor, ObjectType.USER, user.id,
            details={"active": [user.active, active], "email": [user.email, email]},
        )  # fmt: skip
        self.set_active(user, active, actor=actor)
        user.email = email

    def set_active(self, user: User, active: bool, *, actor: User | None) -> None:
        """Let ``user`` sign in or not; deactivating ends their sessions (no commit)."""
        if not active and user.active:
            SessionService(self.session).end_all(user, reason="deactivated", actor=actor)
        user.active = active

    def _set_password(self, user: User, password: str, *, temporary: bool) -> None:
        user.password_hash = hash_password(password)
        user.must_change_password = temporary
        user.password_changed_at = utcnow()

    def ensure_county(self, code: str, name: str, *, actor: User | None = None) -> County:
        """Return the county with ``code``, creating it (audited) if missing."""
        code, name = inputs.clean_text(code, "code", 32), inputs.clean_text(name, "name", 100)
        county = self.session.scalar(select(County).where(County.code == code))
        if county is None:
            county = County(code=code, name=name)
            self.session.add(county)
            self.session.flush()
            record(
                self.session, AuditAction.COUNTY_SAVED, actor, ObjectType.COUNTY, county.id,
                details={"code": code, "name": name},
            )  # fmt: skip
        return county

    def _audit(
        self,
        actor: User | None,
        user: User,
        action: AuditAction,
        roles: list[str],
        before: list[str] | None = None,
    ) -> None:
        record(
            self.session, action, actor, ObjectType.USER, user.id,
            details={"roles": roles, "before": before or []},
        )  # fmt: skip
