"""Who may change a programme's episodes: the one rule every editing path asks.

A programme's episodes may be changed (metadata, subtitles, a new episode, a new version)
by its responsible producer, the producers named as its editors, and admins. Nobody else,
whichever page, API call, upload or import they come through.

A *released* episode (one of its versions is in a published release set) keeps what the
counties received: its title, number, synopsis, source, production facts and subtitles are
frozen. What may still change is what describes rather than makes the film: topics and
keywords (how it is found) and the rights holder and expiry (a licence renewed or
corrected). A new version (a corrected cut) may still be uploaded: it goes through review
on its own and never touches the released version, which stays as it was sent out.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import NotAllowed
from mam.i18n import N_
from mam.models import Episode, Programme, Role, User, Version, VersionState
from mam.models.review import ProgrammeEditor

# Fields of a released episode that may still change (see the module docstring).
RELEASED_MUTABLE = frozenset({"topics", "keywords", "rights_holder", "rights_expiry"})


def may_edit_programme(session: Session, user: User, programme: Programme) -> bool:
    """Say whether ``user`` may change the programme's episodes and submit them."""
    if user.has_role(Role.ADMIN):
        return True
    if not user.has_role(Role.PRODUCER):
        return False
    if programme.producer_id == user.id:
        return True
    return (
        session.scalar(
            select(ProgrammeEditor.id).where(
                ProgrammeEditor.programme_id == programme.id, ProgrammeEditor.user_id == user.id
            )
        )
        is not None
    )


def programme_editors(session: Session, programme: Programme) -> list[User]:
    """Return the people who may edit ``programme``: its responsible producer, then editors."""
    people: dict[int, User] = {}
    if programme.producer is not None:
        people[programme.producer.id] = programme.producer
    for row in session.scalars(
        select(ProgrammeEditor)
        .where(ProgrammeEditor.programme_id == programme.id)
        .order_by(ProgrammeEditor.id)
    ):
        people.setdefault(row.user_id, row.user)
    return [u for u in people.values() if u.active]


def names_of(people: Iterable[User]) -> str:
    """Return people's display names, separated the way a Chinese list is (、)."""
    return "、".join(u.display_name for u in people)


def require_edit(session: Session, user: User | None, programme: Programme) -> None:
    """Refuse, naming who may, unless ``user`` may edit ``programme`` (None: the system)."""
    if user is None or may_edit_programme(session, user, programme):
        return
    people = programme_editors(session, programme)
    if not people:
        raise NotAllowed(
            N_(
                "《%(programme)s》 has no responsible producer yet; "
                "an administrator must assign one before its episodes can be changed"
            ),
            params={"programme": programme.name},
            rule="programme",
            who=[],
        )
    raise NotAllowed(
        N_(
            "Only the responsible producer and editors of 《%(programme)s》 may change its "
            "episodes or submit them: %(people)s"
        ),
        params={"programme": programme.name, "people": names_of(people)},
        rule="programme",
        who=[u.id for u in people],
    )


def may_create_programme(user: User | None) -> bool:
    """Say whether ``user`` may create a programme (producers and admins; None: the system)."""
    return user is None or user.has_role(Role.PRODUCER, Role.ADMIN)


def require_create_programme(user: User | None, name: str) -> None:
    """Refuse unless ``user`` may create the programme ``name``."""
    if not may_create_programme(user):
        raise NotAllowed(
            N_("Only producers and administrators may create the programme 《%(programme)s》"),
            params={"programme": name},
            rule="programme_create",
        )


def is_released(session: Session, episode: Episode) -> bool:
    """Say whether a version of ``episode`` is out in a published release set."""
    return (
        session.scalar(
            select(Version.id)
            .where(Version.episode_id == episode.id, Version.state == VersionState.RELEASED)
            .limit(1)
        )
        is not None
    )


def require_episode_change(
    session: Session, user: User | None, episode: Episode, fields: Iterable[str]
) -> None:
    """Refuse a change of ``fields`` of ``episode``: edit rights first, then the release lock.

    ``fields`` are metadata field names, ``title``, or ``subtitles``.
    """
    require_edit(session, user, episode.programme)
    frozen = sorted(set(fields) - RELEASED_MUTABLE)
    if frozen and is_released(session, episode):
        raise NotAllowed(
            N_(
                "《%(title)s》 has been released to the counties: its title, number, synopsis, "
                "source, production details and subtitles can no longer change; only topics, "
                "keywords and the rights holder and expiry can"
            ),
            params={"title": episode.title},
            rule="released",
            fields=frozen,
        )
