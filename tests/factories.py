"""Row factories for tests."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy.orm import Session

from mam.models import Asset, Episode, Programme, Role, User, UserRole, Version, VersionState


def user(session: Session, *roles: Role, username: str | None = None) -> User:
    """Create a user with ``roles`` (password hash is a placeholder)."""
    u = User(
        username=username or f"u{uuid.uuid4().hex[:8]}",
        display_name="测试用户",
        password_hash="x",
        role_rows=[UserRole(role=r) for r in roles],
    )
    session.add(u)
    session.flush()
    return u


def version(
    session: Session,
    state: VersionState = VersionState.UPLOADED,
    programme: str = "时代风采",
    title: str | None = None,
) -> Version:
    """Create a programme/episode/version/asset chain in ``state``."""
    prog = session.query(Programme).filter_by(name=programme).one_or_none()
    if prog is None:
        prog = Programme(name=programme)
    ep = Episode(programme=prog, title=title or f"第{uuid.uuid4().hex[:6]}集")
    sha = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    v = Version(
        episode=ep,
        number=1,
        state=state,
        asset=Asset(
            sha256=sha,
            storage_key=f"originals/{sha}",
            size=1,
            original_filename="a.mp4",
            media_info={},
        ),
    )
    session.add(v)
    session.flush()
    return v
