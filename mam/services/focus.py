"""A county's playback and viewing focus (播放收看重点) for a period.

County staff set it: a title, themes (free text, one per line) and recommended films, each a
film the county received (:mod:`mam.services.supply`). Township accounts read their
county's focus when they make their plan. The caller commits.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam import inputs
from mam.errors import InvalidInput, NotFound
from mam.i18n import N_
from mam.models import User
from mam.models.network import Focus, FocusFilm
from mam.services.network_scope import NetworkScope, audit
from mam.services.supply import require_supplied

MAX_FILMS = 100


class FocusService:
    """Set and read a county's focus."""

    def __init__(self, session: Session, actor: User) -> None:
        self.session = session
        self.actor = actor
        self.scope = NetworkScope(session, actor)

    def for_county(self, county_id: int) -> list[Focus]:
        """Return a county's focus periods, newest first."""
        self.scope.require_county(county_id, manage=False)
        return list(
            self.session.scalars(
                select(Focus)
                .where(Focus.county_id == county_id)
                .order_by(Focus.starts_on.desc(), Focus.id.desc())
            )
        )

    def current(self, county_id: int, on: date) -> list[Focus]:
        """Return the focus periods that cover ``on`` (a plan's month uses its first day)."""
        return [f for f in self.for_county(county_id) if f.starts_on <= on <= f.ends_on]

    def get(self, focus_id: int) -> Focus:
        """Return a focus the actor may read."""
        row = self.session.get(Focus, focus_id)
        if row is None or not self.scope.may_read_county(row.county_id):
            raise NotFound(N_("This focus does not exist."), params={})
        return row

    def save(
        self,
        county_id: int,
        *,
        title: str,
        themes: str,
        starts_on: date,
        ends_on: date,
        films: list[tuple[int, int]],
        focus: Focus | None = None,
    ) -> Focus:
        """Create or replace a focus; ``films`` are (release id, episode id) pairs."""
        self.scope.require_county(county_id)
        if focus is not None and focus.county_id != county_id:
            raise NotFound(N_("This focus does not exist."), params={})
        if ends_on < starts_on:
            raise InvalidInput(N_("The period ends before it starts."), field="ends_on")
        if len(films) > MAX_FILMS:
            raise InvalidInput(
                N_("Recommend at most %(n)s films."), params={"n": MAX_FILMS}, field="films"
            )
        unique = list(dict.fromkeys(films))
        for release_id, episode_id in unique:
            require_supplied(self.session, county_id, release_id, episode_id)
        row = focus or Focus(county_id=county_id, created_by_id=self.actor.id)
        row.title = inputs.clean_text(title, "title", 200)
        row.themes = inputs.optional_text(themes, "themes", 4000, multiline=True)
        row.starts_on, row.ends_on = starts_on, ends_on
        seen_episodes: set[int] = set()
        row.films.clear()
        self.session.flush()
        for release_id, episode_id in unique:
            if episode_id not in seen_episodes:
                seen_episodes.add(episode_id)
                row.films.append(FocusFilm(release_id=release_id, episode_id=episode_id))
        if focus is None:
            self.session.add(row)
        self.session.flush()
        action = "focus_updated" if focus is not None else "focus_created"
        audit(self.session, self.actor, action, "focus", row.id, films=len(row.films))
        return row

    def delete(self, focus: Focus) -> None:
        """Remove a focus (plans do not refer to it)."""
        self.scope.require_county(focus.county_id)
        audit(self.session, self.actor, "focus_deleted", "focus", focus.id, title=focus.title)
        self.session.delete(focus)
