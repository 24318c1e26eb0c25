"""Circulation of copies (周转): which point holds which USB stick or disc, and its history.

A township registers its copies (a label written on the stick or sleeve, the release set
and optionally the one episode it holds); a copy starts at the township station. Handing it
on records a CopyMovement (from where it was, to a point of the same township or back to
the station) and moves ``holder_point_id``; movements are never changed. The caller commits.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam import inputs
from mam.errors import InvalidInput, NotFound
from mam.i18n import N_
from mam.models import User
from mam.models.network import CopyMedium, CopyMovement, FilmCopy, PlaybackPoint, Township
from mam.models.release import ReleaseItem
from mam.services.network_scope import NetworkScope, audit
from mam.services.supply import supplied_films


class Circulation:
    """Register copies and hand them on between a township's points."""

    def __init__(self, session: Session, actor: User) -> None:
        self.session = session
        self.actor = actor
        self.scope = NetworkScope(session, actor)

    def copies(self, township: Township) -> list[FilmCopy]:
        """Return the township's copies (in use first, then by label)."""
        self.scope.township(township.id)
        return list(
            self.session.scalars(
                select(FilmCopy)
                .where(FilmCopy.township_id == township.id)
                .order_by(FilmCopy.active.desc(), FilmCopy.label)
            )
        )

    def get(self, copy_id: int) -> FilmCopy:
        """Return a copy of a township the actor works for."""
        row = self.session.get(FilmCopy, copy_id)
        if row is None:
            raise NotFound(N_("This copy does not exist."), params={})
        self.scope.township(row.township_id)
        return row

    def register(
        self,
        township: Township,
        *,
        label: str,
        medium: str,
        release_id: int,
        episode_id: int | None = None,
    ) -> FilmCopy:
        """Register a copy of a release set (or one of its episodes) the county received."""
        self.scope.township(township.id)
        label = inputs.clean_text(label, "label", 64)
        kind = inputs.parse_choice(medium, "medium", CopyMedium)
        received = {f.release_id for f in supplied_films(self.session, township.county_id)}
        if release_id not in received:
            raise InvalidInput(N_("The county has not received this release set."), field="release")
        if (
            episode_id is not None
            and self.session.scalar(
                select(ReleaseItem.id).where(
                    ReleaseItem.release_id == release_id, ReleaseItem.episode_id == episode_id
                )
            )
            is None
        ):
            raise InvalidInput(N_("The episode is not in this release set."), field="episode")
        taken = self.session.scalar(
            select(FilmCopy.id).where(FilmCopy.township_id == township.id, FilmCopy.label == label)
        )
        if taken is not None:
            raise InvalidInput(N_("That label is already used here."), field="label")
        row = FilmCopy(
            township_id=township.id,
            label=label,
            medium=kind,
            release_id=release_id,
            episode_id=episode_id,
        )
        self.session.add(row)
        self.session.flush()
        audit(self.session, self.actor, "copy_registered", "film_copy", row.id, label=label)
        return row

    def hand_on(
        self, copy: FilmCopy, to_point_id: int | None, *, moved_on: date, note: str = ""
    ) -> CopyMovement:
        """Record that ``copy`` went to a point (None: back to the township station)."""
        self.get(copy.id)
        if not copy.active:
            raise InvalidInput(N_("This copy is no longer in use."), field="copy")
        if to_point_id is not None:
            point = self.session.get(PlaybackPoint, to_point_id)
            if point is None or point.township_id != copy.township_id or not point.active:
                raise InvalidInput(
                    N_("Choose an active playback point of this township."), field="point"
                )
        if to_point_id == copy.holder_point_id:
            raise InvalidInput(N_("The copy is already there."), field="point")
        if moved_on > date.today() + timedelta(days=1):
            raise InvalidInput(N_("A hand-over cannot be recorded before it happens."))
        move = CopyMovement(
            copy=copy,
            from_point_id=copy.holder_point_id,
            to_point_id=to_point_id,
            moved_on=moved_on,
            note=inputs.optional_text(note, "note", 300),
            user_id=self.actor.id,
        )
        copy.holder_point_id = to_point_id
        self.session.add(move)
        self.session.flush()
        audit(
            self.session,
            self.actor,
            "copy_handed_on",
            "film_copy",
            copy.id,
            from_point_id=move.from_point_id,
            to_point_id=to_point_id,
        )
        return move

    def retire(self, copy: FilmCopy) -> None:
        """Mark a copy lost or worn out; its history stays."""
        self.get(copy.id)
        copy.active = False
        audit(self.session, self.actor, "copy_retired", "film_copy", copy.id)
