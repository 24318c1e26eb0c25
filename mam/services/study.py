"""What a learner may watch, and what they studied: segments served, heartbeats, completion.

A learner sees the episodes of release sets published to their county (not withdrawn, not
drafts) whose pinned version has a ``web`` HLS ladder. While they watch, the app notes
every segment it serves them (:meth:`StudyService.note_segment`) and the player sends
heartbeats (how many seconds it played since the last one, and where it is). Credit runs
on a study clock: in total never more than the wall-clock time since the page was opened
(however many heartbeats are sent), and never beyond the seconds of film actually served
to the learner, nor the film's length: a forged heartbeat gains at most what was really
sent, at the speed of real time.
An episode is completed once 90 % of its length is credited. The caller commits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mam.audit import AuditAction, ObjectType
from mam.audit import record as audit_record
from mam.errors import InvalidInput, NotFound
from mam.i18n import N_
from mam.models import Episode, Rendition, Role, User, Version, utcnow
from mam.models.catalogue import Topic, episode_topic
from mam.models.learning import StudyDay, StudyRecord, StudySegment
from mam.models.release import ReleaseItem, ReleaseSet, ReleaseState, ReleaseTarget
from mam.services.licences import LicenceService, refusal, today

HLS_MIME = "application/vnd.apple.mpegurl"
COMPLETION = 0.9  # share of the film that completes an episode
SLACK = 3.0  # seconds of unused wall-clock time a heartbeat may carry over to the next
MAX_CLAIM = 3600.0  # a heartbeat claims at most an hour (a number, not an exploit)


@dataclass(frozen=True)
class Playable:
    """An episode a learner may watch, in the version their county received."""

    episode: Episode
    version: Version
    release: ReleaseSet
    duration: float
    topics: tuple[str, ...]

    @property
    def has_poster(self) -> bool:
        """Say whether the version has a poster image."""
        return self.version.rendition("poster") is not None


def _released_to(county_id: int) -> Select[ReleaseItem]:
    """Items of release sets published (and not withdrawn) to ``county_id``, newest first."""
    targeted = select(ReleaseTarget.release_id).where(ReleaseTarget.county_id == county_id)
    return (
        select(ReleaseItem)
        .join(ReleaseSet, ReleaseItem.release_id == ReleaseSet.id)
        .join(Rendition, Rendition.version_id == ReleaseItem.version_id)
        .where(
            ReleaseSet.state == ReleaseState.PUBLISHED,
            or_(ReleaseSet.all_counties, ReleaseSet.id.in_(targeted)),
            Rendition.profile == "web",
            Rendition.mime_type == HLS_MIME,
        )
        .order_by(ReleaseSet.published_at.desc(), ReleaseItem.position)
    )


def _duration(version: Version) -> float:
    web = version.rendition("web")
    value = web.duration if web is not None else None
    if value is None:
        value = (version.asset.media_info or {}).get("duration")
    try:
        return max(float(value or 0.0), 0.0)
    except (TypeError, ValueError):
        return 0.0


def _number(value: object, name: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(N_("%(name)s must be a number."), params={"name": name}) from None
    if not math.isfinite(number) or number < 0:
        raise InvalidInput(N_("%(name)s must be a number."), params={"name": name})
    return number


class StudyService:
    """The learner's side of online learning (the caller commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ---- what a learner may watch ---------------------------------------------------------

    def playable(self, county_id: int, *, topic_id: int | None = None) -> list[Playable]:
        """Return the county's watchable episodes, one per episode (its newest release)."""
        query = _released_to(county_id)
        if topic_id is not None:
            query = query.join(
                episode_topic, episode_topic.c.episode_id == ReleaseItem.episode_id
            ).where(episode_topic.c.topic_id == topic_id)
        items: dict[int, ReleaseItem] = {}
        for item in self._licensed(self.session.scalars(query), county_id):
            items.setdefault(item.episode_id, item)
        topics = self._topics(list(items))
        return [
            Playable(i.episode, i.version, i.release, _duration(i.version), topics.get(e, ()))
            for e, i in items.items()
        ]

    def topics_for(self, county_id: int) -> list[Topic]:
        """Return the topics of the county's watchable episodes (for a filter; licensed
        for online learning in the county today, like ``playable``)."""
        episodes = [p.episode.id for p in self.playable(county_id)]
        return list(
            self.session.scalars(
                select(Topic)
                .join(episode_topic, episode_topic.c.topic_id == Topic.id)
                .where(episode_topic.c.episode_id.in_(episodes))
                .distinct()
                .order_by(Topic.position, Topic.name)
            )
        )

    def _topics(self, episode_ids: list[int]) -> dict[int, tuple[str, ...]]:
        found: dict[int, list[str]] = {}
        rows = self.session.execute(
            select(episode_topic.c.episode_id, Topic.name)
            .join(Topic, Topic.id == episode_topic.c.topic_id)
            .where(episode_topic.c.episode_id.in_(episode_ids))
            .order_by(Topic.position, Topic.name)
        )
        for episode_id, name in rows:
            found.setdefault(episode_id, []).append(name)
        return {k: tuple(v) for k, v in found.items()}

    def episode_for(self, user: User, episode_id: int) -> Playable:
        """Return an episode ``user`` may watch, or NotFound (never say it exists elsewhere)."""
        if user.county_id is not None and user.has_role(Role.LEARNER):
            query = _released_to(user.county_id).where(ReleaseItem.episode_id == episode_id)
            item = next(self._licensed(self.session.scalars(query), user.county_id), None)
            if item is not None:
                topics = self._topics([episode_id]).get(episode_id, ())
                return Playable(
                    item.episode, item.version, item.release, _duration(item.version), topics
                )
        raise NotFound(N_("Episode %(id)s does not exist."), params={"id": episode_id})

    def may_stream(self, user: User, version_id: int) -> bool:
        """Say whether a learner's county received ``version_id`` in a published set."""
        if user.county_id is None or not user.has_role(Role.LEARNER):
            return False
        query = _released_to(user.county_id).where(ReleaseItem.version_id == version_id)
        return next(self._licensed(self.session.scalars(query), user.county_id), None) is not None

    def _licensed(self, items: Iterable[ReleaseItem], county_id: int) -> Iterator[ReleaseItem]:
        """Keep the items of sets meant for online learning whose episode's licence allows
        it in ``county_id`` today (an expired licence stops streaming at once)."""
        found = [i for i in items if "web" in i.release.uses]
        governing = LicenceService(self.session).governing({i.episode for i in found})
        day = today()
        for item in found:
            licence = governing[item.episode_id]
            if refusal(item.episode, licence, ("web",), {county_id: ""}, day) is None:
                yield item

    # ---- what the server sent, what the player says ----------------------------------------

    def note_segment(
        self,
        user: User,
        version_id: int,
        sequence: int,
        seconds: float,
        login_session_id: int | None,
    ) -> bool:
        """Record that segment ``sequence`` of a version was served to ``user`` (once)."""
        known = select(StudySegment.id).where(
            StudySegment.user_id == user.id,
            StudySegment.version_id == version_id,
            StudySegment.sequence == sequence,
        )
        if self.session.scalar(known) is not None:
            return False
        try:
            with self.session.begin_nested():
                self.session.add(
                    StudySegment(
                        user_id=user.id,
                        version_id=version_id,
                        sequence=sequence,
                        seconds=max(float(seconds), 0.0),
                        login_session_id=login_session_id,
                    )
                )
        except IntegrityError:  # the same segment from another rung at the same moment
            return False
        return True

    def served_seconds(self, user_id: int, version_id: int) -> float:
        """Return the seconds of film served to a learner (each segment counted once)."""
        total = self.session.scalar(
            select(func.coalesce(func.sum(StudySegment.seconds), 0.0)).where(
                StudySegment.user_id == user_id, StudySegment.version_id == version_id
            )
        )
        return float(total or 0.0)

    def open(self, user: User, episode_id: int) -> StudyRecord:
        """Return the learner's record of an episode they may watch, starting it if new."""
        playable = self.episode_for(user, episode_id)
        record = self.session.scalar(
            select(StudyRecord).where(
                StudyRecord.user_id == user.id, StudyRecord.episode_id == episode_id
            )
        )
        if record is None:
            record = StudyRecord(
                user_id=user.id,
                episode_id=episode_id,
                version_id=playable.version.id,
                county_id=user.county_id,
                duration=playable.duration,
                watched_seconds=0.0,
                position=0.0,
                started_at=utcnow(),
            )
            self.session.add(record)
            self.session.flush()
        elif record.version_id != playable.version.id:  # the county received a new cut
            record.version_id, record.duration = playable.version.id, playable.duration
        return record

    def heartbeat(
        self, user: User, episode_id: int, *, position: object, watched: object
    ) -> StudyRecord:
        """Credit what the player says it played, within what was served; note the position."""
        claimed = min(_number(watched, "watched"), MAX_CLAIM)
        where = _number(position, "position")
        record = self.open(user, episode_id)
        now = utcnow()
        # The study clock: wall-clock time up to which study has been credited. A heartbeat
        # gains at most the time since then; at most SLACK seconds of unused time carry over
        # (network jitter), so neither idling nor a burst of heartbeats banks any time.
        clock: datetime = record.credit_clock or record.started_at
        budget = max((now - clock).total_seconds(), 0.0)
        ceiling = min(self.served_seconds(user.id, record.version_id), record.duration)
        before = record.watched_seconds
        gain = max(min(claimed, budget, ceiling - before), 0.0)
        after = before + gain
        record.watched_seconds = after
        record.position = min(where, record.duration)
        record.heartbeat_at = now
        record.credit_clock = max(clock + timedelta(seconds=gain), now - timedelta(seconds=SLACK))
        if after > before:
            self._credit_day(record, after - before, now)
        done = record.duration > 0 and after >= COMPLETION * record.duration
        if record.completed_at is None and done:
            record.completed_at = now
            audit_record(
                self.session, AuditAction.STUDY_COMPLETED, user, ObjectType.EPISODE, episode_id,
                details={"seconds": round(after, 1), "duration": record.duration},
            )  # fmt: skip
        return record

    def _credit_day(self, record: StudyRecord, seconds: float, now: datetime) -> None:
        day = self.session.scalar(
            select(StudyDay).where(
                StudyDay.user_id == record.user_id,
                StudyDay.episode_id == record.episode_id,
                StudyDay.day == now.date(),
            )
        )
        if day is None:
            day = StudyDay(
                user_id=record.user_id,
                episode_id=record.episode_id,
                county_id=record.county_id,
                day=now.date(),
                seconds=0.0,
            )
            self.session.add(day)
        day.seconds += seconds

    def records(self, user: User) -> list[StudyRecord]:
        """Return the learner's study records, most recent first."""
        return list(
            self.session.scalars(
                select(StudyRecord)
                .where(StudyRecord.user_id == user.id)
                .order_by(func.coalesce(StudyRecord.heartbeat_at, StudyRecord.started_at).desc())
            )
        )

    @staticmethod
    def resume_at(record: StudyRecord) -> float:
        """Return where the player should start: where it stopped, or the start if at the end."""
        return record.position if record.position < record.duration - 3 else 0.0
