"""Episode metadata: validation of what people type or import, and applying it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from mam import inputs, search
from mam.audit import AuditAction, ObjectType, record
from mam.errors import Conflict, InvalidInput, NotFound
from mam.i18n import N_
from mam.messages import catalogue
from mam.models import Episode, SourceType, User
from mam.models.catalogue import DEFAULT_TOPICS, EpisodeDetail, Topic, episode_topic
from mam.services.edit_rights import require_episode_change

# Field names accepted from forms, tus Upload-Metadata, manifests and the API.
TEXT_LIMITS = {"producer": 100, "language": 50, "rights_holder": 200}
SOURCE_ALIASES = {
    "self": SourceType.SELF,
    "自制": SourceType.SELF,
    "imported": SourceType.IMPORTED,
    "引进": SourceType.IMPORTED,
    "general": SourceType.GENERAL,
    "省市通用教材": SourceType.GENERAL,
    "通用教材": SourceType.GENERAL,
}
FIELDS = (
    "number",
    "synopsis",
    "source",
    "topics",
    "producer",
    "production_date",
    "language",
    "rights_holder",
    "rights_expiry",
    "keywords",
)
_SPLIT = re.compile(r"[,，;；、|]+")
MAX_SYNOPSIS = 5000
MAX_KEYWORDS = 30
MAX_TITLE = 300


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


def _text(value: Any, field: str = "text", limit: int = MAX_SYNOPSIS) -> str:
    return inputs.optional_text(value, field, limit, multiline=field == "synopsis")


def parse_date(value: Any, field: str) -> date | None:
    """Parse 2024-05-01, 2024/5/1, 2024.5.1 or 2024年5月1日 (empty = None)."""
    if isinstance(value, date):
        return value
    raw = _text(value, field, 50)
    if not raw:
        return None
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", raw)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    raise InvalidInput(
        catalogue.DATE_INVALID,
        params={"field": inputs.label(field), "value": raw},
        field=field,
    )


def parse_source(value: Any) -> SourceType:
    """Accept self/imported/general or their Chinese names."""
    raw = _text(value, "source", 50)
    try:
        return SOURCE_ALIASES[raw.lower() if raw.isascii() else raw]
    except KeyError:
        raise InvalidInput(
            catalogue.SOURCE_INVALID, params={"value": raw}, field="source"
        ) from None


def split_list(value: Any) -> list[str]:
    """Split a comma/、/; separated list (or take a list), dropping blanks and repeats."""
    items = value if isinstance(value, list | tuple) else _SPLIT.split(_text(value))
    out: list[str] = []
    for item in items:
        text = _text(item)
        if text and text not in out:
            out.append(text)
    return out


def ensure_topics(session: Session) -> list[Topic]:
    """Create the default taxonomy if the topic table is empty; return active topics."""
    if not session.scalar(select(func.count()).select_from(Topic)):
        session.add_all(Topic(name=n, position=i) for i, n in enumerate(DEFAULT_TOPICS))
        session.flush()
    return list(session.scalars(select(Topic).where(Topic.active).order_by(Topic.position)))


def clean_metadata(session: Session, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the metadata fields present in ``raw``; raise InvalidInput naming each problem."""
    errors: list[FieldError] = []
    said: list[dict[str, object]] = []
    out: dict[str, Any] = {}
    for name in FIELDS:
        if name not in raw or raw[name] is None:
            continue
        value = raw[name]
        try:
            out[name] = _clean_field(session, name, value)
        except InvalidInput as exc:
            errors.append(FieldError(name, exc.message))
            said.append({"code": exc.code, "template": exc.template, "params": exc.params})
    if errors:
        raise InvalidInput(
            catalogue.FIELDS_INVALID,
            params={"problems": said},
            errors={e.field: e.message for e in errors},
        )
    return out


def _clean_field(session: Session, name: str, value: Any) -> Any:  # noqa: PLR0911 - one per field
    if name == "number":
        return inputs.optional_int(_text(value, name), name, minimum=1, maximum=99999)
    if name == "synopsis":
        return _text(value, name, MAX_SYNOPSIS)
    if name == "source":
        return parse_source(value)
    if name in ("production_date", "rights_expiry"):
        return parse_date(value, name)
    if name == "keywords":
        words = split_list(value)
        if len(words) > MAX_KEYWORDS or any(len(w) > 50 for w in words):
            raise InvalidInput(
                catalogue.KEYWORDS_LIMIT, params={"limit": MAX_KEYWORDS}, field=name
            )
        return words
    if name == "topics":
        return _topics(session, split_list(value))
    return _text(value, name, TEXT_LIMITS[name])


def _topics(session: Session, names: Iterable[str]) -> list[int]:
    known = {t.name: t.id for t in ensure_topics(session)}
    known.update({str(i): i for i in known.values()})
    # "农业技术" finds "科技富民/农业技术": each part of a combined topic name counts.
    for topic_name, topic_id in list(known.items()):
        for part in topic_name.split("/"):
            known.setdefault(part, topic_id)
    ids: list[int] = []
    unknown: list[str] = []
    for name in names:
        if name in known:
            if known[name] not in ids:
                ids.append(known[name])
        else:
            unknown.append(name)
    if unknown:
        raise InvalidInput(
            catalogue.TOPIC_UNKNOWN, params={"topics": "、".join(unknown)}, field="topics"
        )
    return ids


def detail_of(session: Session, episode: Episode) -> EpisodeDetail:
    """Return the episode's detail row, creating an empty one."""
    detail = session.get(EpisodeDetail, episode.id)
    if detail is None:
        detail = EpisodeDetail(episode_id=episode.id, keywords=[])
        session.add(detail)
    return detail


def topic_ids(session: Session, episode_id: int) -> list[int]:
    """Return the ids of an episode's topics."""
    return list(
        session.scalars(
            select(episode_topic.c.topic_id).where(episode_topic.c.episode_id == episode_id)
        )
    )


def changed_fields(
    session: Session, episode: Episode, cleaned: Mapping[str, Any], title: str | None = None
) -> list[str]:
    """Return the names of the fields whose cleaned value differs from the episode's."""
    detail = session.get(EpisodeDetail, episode.id)
    changed: list[str] = []
    if title is not None and title != episode.title:
        changed.append("title")
    for name, value in cleaned.items():
        if name == "topics":
            if sorted(value) != sorted(topic_ids(session, episode.id)):
                changed.append(name)
            continue
        if name in ("number", "synopsis", "source"):
            current = getattr(episode, "source_type" if name == "source" else name)
        else:
            current = getattr(detail, name) if detail is not None else None
            if current is None and value in ("", [], None):
                continue  # nothing was there and nothing is given
        if current != value:
            changed.append(name)
    return changed


def require_change(
    session: Session,
    actor: User | None,
    episode: Episode,
    cleaned: Mapping[str, Any],
    title: str | None = None,
) -> list[str]:
    """Refuse unless ``actor`` may make these changes to ``episode``; return what changes."""
    changed = changed_fields(session, episode, cleaned, title)
    require_episode_change(session, actor, episode, changed)
    return changed


def apply_metadata(
    session: Session,
    episode: Episode,
    cleaned: Mapping[str, Any],
    actor: User | None,
    *,
    title: str | None = None,
) -> None:
    """Check the actor's rights, write cleaned metadata (and ``title``) to ``episode``, audit
    it and refresh its search row (no commit). ``actor`` None is the system."""
    if title is not None:
        title = inputs.clean_text(title, "title", MAX_TITLE)
    changed = require_change(session, actor, episode, cleaned, title)
    if "title" in changed and title is not None:
        rename_episode(session, episode, title, actor)  # refuses a title already taken
    detail = detail_of(session, episode)
    for name in changed:
        if name == "title":
            continue
        value = cleaned[name]
        if name == "topics":
            session.execute(delete(episode_topic).where(episode_topic.c.episode_id == episode.id))
            if value:
                session.execute(
                    insert(episode_topic),
                    [{"episode_id": episode.id, "topic_id": t} for t in value],
                )
            continue
        target: Any = episode if name in ("number", "synopsis", "source") else detail
        setattr(target, "source_type" if name == "source" else name, value)
    if {"rights_holder", "rights_expiry"} & set(changed):
        from mam.services.licences import LicenceService  # noqa: PLC0415 - it imports this

        LicenceService(session).from_rights_fields(actor, episode)
    fields = [name for name in changed if name != "title"]  # a rename is audited apart
    if fields:
        record(
            session, AuditAction.EDIT_METADATA, actor, ObjectType.EPISODE, episode.id,
            details={"fields": fields},
        )  # fmt: skip
    search.index_episode(session, episode.id)


def episode_or_404(session: Session, episode_id: Any) -> Episode:
    """Return the episode with ``episode_id`` or raise NotFound."""
    ident = inputs.parse_id(episode_id, "episode_id")
    episode = session.get(Episode, ident)
    if episode is None:
        raise NotFound(catalogue.EPISODE_MISSING, params={"id": ident})
    return episode


def rename_episode(session: Session, episode: Episode, title: object, actor: User | None) -> None:
    """Give ``episode`` a new title, refusing one its programme already has; audit it (no
    commit). The one way a title changes, from the metadata form and the API alike."""
    new = inputs.clean_text(title, "title", MAX_TITLE)
    if new == episode.title:
        return
    clash = session.scalar(
        select(Episode.id).where(
            Episode.programme_id == episode.programme_id,
            Episode.title == new,
            Episode.id != episode.id,
        )
    )
    if clash is not None:
        raise Conflict(
            N_("《%(programme)s》 already has an episode called %(title)s"),
            params={"programme": episode.programme.name, "title": new},
            field="title",
        )
    record(
        session, AuditAction.TITLE_CHANGED, actor, ObjectType.EPISODE, episode.id,
        details={"before": episode.title, "title": new},
    )  # fmt: skip
    episode.title = new


def metadata_dict(session: Session, episode: Episode) -> dict[str, Any]:
    """Return an episode's descriptive metadata as JSON-able data."""
    detail = session.get(EpisodeDetail, episode.id)
    names = dict(session.execute(select(Topic.id, Topic.name)).all())
    return {
        "number": episode.number,
        "synopsis": episode.synopsis,
        "source": episode.source_type.value,
        "topics": [names[t] for t in topic_ids(session, episode.id) if t in names],
        "producer": detail.producer if detail else "",
        "production_date": detail.production_date.isoformat()
        if detail and detail.production_date
        else None,
        "language": detail.language if detail else "",
        "rights_holder": detail.rights_holder if detail else "",
        "rights_expiry": detail.rights_expiry.isoformat()
        if detail and detail.rights_expiry
        else None,
        "keywords": list(detail.keywords) if detail else [],
    }
