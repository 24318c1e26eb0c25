"""Sign-in sessions, passwords and the edit-rights rule on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mam.db import Database
from mam.errors import InvalidInput, NotAllowed
from mam.models import Role, VersionState, utcnow
from mam.models.auth import LoginSession
from mam.models.review import ProgrammeEditor
from mam.services import metadata
from mam.services.edit_rights import programme_editors, require_edit
from mam.services.sessions import SessionService
from mam.services.users import UserService
from tests import factories

PASSWORD = "correct horse battery"
NEW = "梧桐树下 seven lanterns"


@pytest.fixture
def db_session(database_url: str) -> Iterator[Session]:
    db = Database(database_url)
    with db.session() as s:
        yield s
    db.dispose()


def test_sessions_end_on_logout_password_change_reset_and_deactivation(
    db_session: Session,
) -> None:
    s = db_session
    users = UserService(s)
    user = users.create("zhang", PASSWORD, [Role.PRODUCER], display_name="张编导")
    sessions = SessionService(s)
    office, home, phone = (sessions.start(user, ip="10.0.0.1") for _ in range(3))
    s.commit()
    assert all(sessions.find(user.id, t) for t in (office, home, phone))
    assert sessions.find(user.id + 1, office) is None  # a token is bound to its user
    assert sessions.find(user.id, "forged") is None

    assert sessions.end(phone) and not sessions.end(phone)
    s.commit()
    assert sessions.find(user.id, phone) is None and sessions.find(user.id, home)

    with pytest.raises(NotAllowed):
        users.change_password(user, "wrong password", NEW, keep_session=office)
    with pytest.raises(InvalidInput, match="too easy"):
        users.change_password(user, PASSWORD, "zhang123456", keep_session=office)
    assert users.change_password(user, PASSWORD, NEW, keep_session=office) == 1
    assert sessions.find(user.id, office) and sessions.find(user.id, home) is None
    assert users.authenticate("zhang", NEW) is not None

    temporary = users.reset_password(user, actor=None)
    assert user.must_change_password and len(temporary) == 16
    assert sessions.find(user.id, office) is None
    assert users.authenticate("zhang", temporary) is not None

    again = sessions.start(user)
    s.commit()
    users.set_active(user, False, actor=None)
    s.commit()
    assert sessions.find(user.id, again) is None


def test_the_edit_rule_names_who_may(db_session: Session) -> None:
    s = db_session
    owner = factories.user(s, Role.PRODUCER, username="owner")
    owner.display_name = "张编导"
    editor = factories.user(s, Role.PRODUCER, username="editor")
    editor.display_name = "李编辑"
    stranger = factories.user(s, Role.PRODUCER, username="stranger")
    v = factories.version(s, VersionState.RELEASED, programme="党建引领")
    programme = v.episode.programme
    programme.producer_id = owner.id
    s.flush()
    s.add(ProgrammeEditor(programme_id=programme.id, user_id=editor.id))
    s.commit()
    assert [u.username for u in programme_editors(s, programme)] == ["owner", "editor"]
    with pytest.raises(NotAllowed) as err:
        require_edit(s, stranger, programme)
    assert err.value.message.endswith("张编导、李编辑")
    require_edit(s, editor, programme)
    cleaned = metadata.clean_metadata(s, {"synopsis": "新简介"})
    with pytest.raises(NotAllowed, match="released"):
        metadata.apply_metadata(s, v.episode, cleaned, editor)
    s.rollback()
    metadata.apply_metadata(s, v.episode, metadata.clean_metadata(s, {"keywords": "党建"}), editor)
    s.commit()


def test_sessions_that_ended_long_ago_are_forgotten_at_the_next_sign_in(
    db_session: Session,
) -> None:
    s = db_session
    user = factories.user(s, Role.REVIEWER)
    sessions = SessionService(s)
    old, recent = sessions.start(user), sessions.start(user)
    s.flush()
    sessions.end(old)
    sessions.end(recent)
    rows = {r.token_sha256: r for r in s.scalars(select(LoginSession))}
    for row in rows.values():
        row.ended_at = utcnow() - timedelta(days=1)
    next(iter(rows.values())).ended_at = utcnow() - timedelta(days=31)
    s.commit()
    sessions.start(user)
    s.commit()
    assert s.scalar(select(func.count()).select_from(LoginSession)) == 2
