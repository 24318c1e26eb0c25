"""Describe audit rows in words: who acted, and the object named as people know it
(《乡村振兴 第1集》 version 2, release set 2026年第12期, 甲县, 张编导) instead of "version 7".

Descriptions are English templates with parameters (:class:`Phrase`); whoever shows them
translates them (mam does not). Objects are looked up in one query per kind of object.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.audit import ACTIONS, OBJECT_LABELS, AuditAction, ObjectType, state_label
from mam.i18n import N_, Label, render
from mam.models import AuditEvent, County, Episode, Job, Programme, User, Version
from mam.models.catalogue import ApiToken, Topic
from mam.models.network import FilmCopy, Focus, Organisation, Plan, PlaybackPoint, Township
from mam.models.release import PackageKind, ReleasePackage, ReleaseSet


@dataclass(frozen=True)
class Phrase:
    """An English template and its parameters, rendered in the reader's language."""

    template: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, translate: Callable[[str], str]) -> str:
        """Return the phrase in the language of ``translate``; nested phrases too."""
        values = {
            k: v.render(translate) if isinstance(v, Phrase) else v for k, v in self.params.items()
        }
        return render(self.template, values, translate)


@dataclass(frozen=True)
class Described:
    """One audit row in words."""

    sentence: Phrase
    action: Phrase
    from_state: Phrase | None
    to_state: Phrase | None


KIND_NAMES = {
    PackageKind.TV: N_("TV broadcast"),
    PackageKind.PLAYBACK: N_("village playback"),
    PackageKind.WEB: N_("online learning"),
}
SYSTEM = Phrase(N_("the system"))


def _version(v: Version) -> Phrase:
    return Phrase(
        N_("《%(programme)s %(episode)s》 version %(number)s"),
        {"programme": v.episode.programme.name, "episode": v.episode.title, "number": v.number},
    )


def _versions(session: Session, ids: Sequence[int]) -> dict[int, Phrase]:
    return {v.id: _version(v) for v in session.scalars(select(Version).where(Version.id.in_(ids)))}


def _jobs(session: Session, ids: Sequence[int]) -> dict[int, Phrase]:
    found = {}
    for job in session.scalars(select(Job).where(Job.id.in_(ids))):
        of = _version(job.version) if job.version else Phrase(N_("a deleted version"))
        found[job.id] = Phrase(
            N_("processing job %(id)s of %(version)s"), {"id": job.id, "version": of}
        )
    return found


def _episodes(session: Session, ids: Sequence[int]) -> dict[int, Phrase]:
    return {
        e.id: Phrase(N_("《%(programme)s %(episode)s》"),
                     {"programme": e.programme.name, "episode": e.title})
        for e in session.scalars(select(Episode).where(Episode.id.in_(ids)))
    }  # fmt: skip


def _named(
    model: Any, template: str, name: Callable[[Any], str]
) -> Callable[[Session, Sequence[int]], dict[int, Phrase]]:
    def lookup(session: Session, ids: Sequence[int]) -> dict[int, Phrase]:
        rows = session.scalars(select(model).where(model.id.in_(ids)))
        return {r.id: Phrase(template, {"name": name(r)}) for r in rows}

    return lookup


def _packages(session: Session, ids: Sequence[int]) -> dict[int, Phrase]:
    return {
        p.id: Phrase(
            N_("the %(kind)s package of release set %(name)s for %(county)s"),
            {"kind": Label(KIND_NAMES[p.kind]), "name": p.release.name, "county": p.county.name},
        )
        if p.county is not None
        else Phrase(
            N_("the %(kind)s package of release set %(name)s"),
            {"kind": Label(KIND_NAMES[p.kind]), "name": p.release.name},
        )
        for p in session.scalars(select(ReleasePackage).where(ReleasePackage.id.in_(ids)))
    }


LOOKUPS: dict[str, Callable[[Session, Sequence[int]], dict[int, Phrase]]] = {
    ObjectType.VERSION: _versions,
    ObjectType.JOB: _jobs,
    ObjectType.EPISODE: _episodes,
    ObjectType.PACKAGE: _packages,
    ObjectType.PROGRAMME: _named(Programme, N_("programme 《%(name)s》"), lambda p: p.name),
    ObjectType.RELEASE_SET: _named(ReleaseSet, N_("release set %(name)s"), lambda r: r.name),
    ObjectType.USER: lambda s, ids: {
        u.id: _person(u) for u in s.scalars(select(User).where(User.id.in_(ids)))
    },
    ObjectType.COUNTY: _named(County, "%(name)s", lambda c: c.name),
    ObjectType.API_TOKEN: _named(ApiToken, N_("API token %(name)s"), lambda t: t.name),
    ObjectType.TOPIC: _named(Topic, N_("topic %(name)s"), lambda t: t.name),
    ObjectType.TOWNSHIP: _named(Township, N_("township station %(name)s"), lambda t: t.name),
    ObjectType.ORGANISATION: _named(
        Organisation, N_("organisation %(name)s"), lambda o: o.name
    ),
    ObjectType.PLAYBACK_POINT: _named(
        PlaybackPoint, N_("playback point %(name)s"), lambda p: p.name
    ),
    ObjectType.FOCUS: _named(Focus, N_("playback focus “%(name)s”"), lambda f: f.title),
    ObjectType.PLAN: _named(
        Plan, N_("the playback plan %(name)s"),
        lambda p: f"{p.township.name} {p.month:%Y-%m}",
    ),
    ObjectType.FILM_COPY: _named(FilmCopy, N_("copy %(name)s"), lambda c: c.label),
}


def _without_row(e: AuditEvent) -> Phrase:
    """Name an object that has no row to look up (or no longer has one)."""
    details = e.details or {}
    kind = e.object_type
    if kind == ObjectType.UPLOAD:
        return Phrase(N_("the upload of %(filename)s"), {"filename": details.get("filename", "")})
    if kind == ObjectType.REVIEW_STAGE:
        return Phrase(N_("the review chain"))
    if kind == ObjectType.ORIGINAL:
        return Phrase(N_("source file %(key)s"), {"key": details.get("storage_key", "")})
    if e.action == AuditAction.LOGIN_FAILED:
        return Phrase(N_("as %(username)s"), {"username": details.get("username", "")})
    try:
        label = Label(OBJECT_LABELS[ObjectType(kind)])
    except ValueError:
        label = Label(kind)
    return Phrase(N_("%(object)s %(id)s (deleted)"), {"object": label, "id": e.object_id})


def _person(user: User) -> Phrase:
    return Phrase("%(name)s", {"name": user.display_name or user.username})


def _state(object_type: str, value: str | None) -> Phrase | None:
    return Phrase(state_label(object_type, value)) if value else None


def describe(session: Session, events: Iterable[AuditEvent]) -> list[Described]:
    """Describe ``events`` in words (one query per kind of object among them)."""
    events = list(events)
    wanted: dict[str, set[int]] = defaultdict(set)
    for e in events:
        if e.object_id is not None and e.object_type in LOOKUPS:
            wanted[e.object_type].add(e.object_id)
    names: dict[tuple[str, int | None], Phrase] = {
        (kind, ident): phrase
        for kind, ids in wanted.items()
        for ident, phrase in LOOKUPS[kind](session, sorted(ids)).items()
    }
    out = []
    for e in events:
        obj = names.get((e.object_type, e.object_id)) or _without_row(e)
        actor = _person(e.actor) if e.actor else SYSTEM
        try:
            name, sentence = ACTIONS[AuditAction(e.action)]
        except ValueError:  # an action no longer (or not yet) known: show it as stored
            name = e.action
            sentence = "%(actor)s: " + name.replace("%", "%%") + " %(object)s"
        out.append(
            Described(
                sentence=Phrase(sentence, {"actor": actor, "object": obj}),
                action=Phrase(name),
                from_state=_state(e.object_type, e.from_state),
                to_state=_state(e.object_type, e.to_state),
            )
        )
    return out
