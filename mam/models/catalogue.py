"""Catalogue tables: topics, episode metadata, subtitles, upload sessions, API tokens, search."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    true,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mam.models.core import Base, Episode, User, _enum, utcnow

# The topic taxonomy every new library starts with (admins edit it afterwards).
DEFAULT_TOPICS = (
    "理论学习",
    "党的建设",
    "先进典型",
    "警示教育",
    "政策法规",
    "科技富民/农业技术",
    "文化生活",
)

episode_topic = Table(
    "episode_topic",
    Base.metadata,
    Column(
        "episode_id", ForeignKey("episode.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
    Column("topic_id", ForeignKey("topic.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Topic(Base):
    """A subject in the taxonomy (理论学习, 党的建设, ...)."""

    __tablename__ = "topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)


class EpisodeDetail(Base):
    """Descriptive metadata of an episode beyond its title, synopsis and source."""

    __tablename__ = "episode_detail"

    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episode.id", ondelete="CASCADE"), primary_key=True
    )
    producer: Mapped[str] = mapped_column(String(100), default="")
    production_date: Mapped[date | None] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(50), default="")
    rights_holder: Mapped[str] = mapped_column(String(200), default="")
    rights_expiry: Mapped[date | None] = mapped_column(Date)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    episode: Mapped[Episode] = relationship()


class Subtitle(Base):
    """A subtitle file of an episode, validated and stored as WebVTT."""

    __tablename__ = "subtitle"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episode.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(50))
    storage_key: Mapped[str] = mapped_column(String(300))
    original_filename: Mapped[str] = mapped_column(String(255))
    cue_count: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # 0023_subtitles: a row belongs to one version (or, without one, to every version of the
    # episode); each save of the editor adds a row and leaves the previous one, not current.
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("version.id", ondelete="CASCADE"), index=True
    )
    is_current: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class SubtitleCue(Base):
    """One cue of a current subtitle row, for search (``mam.search_subtitles``)."""

    __tablename__ = "subtitle_cue"

    id: Mapped[int] = mapped_column(primary_key=True)
    subtitle_id: Mapped[int] = mapped_column(
        ForeignKey("subtitle.id", ondelete="CASCADE"), index=True
    )
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episode.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text)  # NFKC, lower case, no spaces


class SubtitleCueGram(Base):
    """A pair of neighbouring CJK characters in a cue: the index ``search_cues`` looks up."""

    __tablename__ = "subtitle_cue_gram"

    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    cue_id: Mapped[int] = mapped_column(
        ForeignKey("subtitle_cue.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class UploadState(enum.StrEnum):
    OPEN = "open"  # receiving bytes
    DONE = "done"  # ingested as a version
    FAILED = "failed"  # complete but refused (not media, duplicate, ...)
    EXPIRED = "expired"  # abandoned and cleaned up
    CANCELLED = "cancelled"  # terminated by the client


class UploadSession(Base):
    """A tus upload: bytes are staged locally until the last one arrives, then ingested.

    Its state moves only through ``mam.machines.UPLOAD``."""

    __tablename__ = "upload_session"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    # What the version will be catalogued as (programme, title, episode_id, source, ...).
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[UploadState] = mapped_column(
        _enum(UploadState), default=UploadState.OPEN, index=True
    )
    sha256: Mapped[str | None] = mapped_column(String(64))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("version.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    # The running SHA-256 of the first ``offset`` bytes (storage.hashing.ResumableSha256).
    sha256_state: Mapped[bytes | None] = mapped_column(LargeBinary)
    # On object storage: the multipart upload receiving the bytes, and its parts so far
    # ([{"n": number, "etag": ..., "size": bytes}]); bytes past the parts wait in a spool file.
    multipart_id: Mapped[str | None] = mapped_column(String(1024))
    parts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    lock_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": lock_version}

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A per-user API token; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    # Space-separated scopes (see mam.services.tokens.SCOPES); "api" for older tokens.
    scopes: Mapped[str] = mapped_column(String(200), default="api", server_default="api")
    expires_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()

    @property
    def scope_set(self) -> frozenset[str]:
        """Return the token's scopes as a set."""
        return frozenset(self.scopes.split())


class EpisodeSearch(Base):
    """Denormalised search row of an episode: n-gram document plus facet values.

    ``document`` holds space-separated tokens (CJK unigrams and bigrams, lower-cased
    words); PostgreSQL stores it as a tsvector under a GIN index, SQLite mirrors it into
    an FTS5 table (see ``mam.search``).
    """

    __tablename__ = "episode_search"

    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episode.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[str] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    source_type: Mapped[str] = mapped_column(String(32), index=True)
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    latest_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("version.id", ondelete="SET NULL"), index=True
    )
    sort_title: Mapped[str] = mapped_column(String(300), default="")
    # The latest version's state, kept current by a trigger on ``version`` (migration 0008).
    state: Mapped[str | None] = mapped_column(String(32))
    # The searched fields, normalised (NFKC, lower case) and one per line: a query word of
    # three or more CJK characters must appear in it as typed, not just as scattered bigrams.
    phrase_text: Mapped[str] = mapped_column(Text, default="", server_default="")

    # GIN on PostgreSQL; on SQLite the column stays empty (FTS5 holds the tokens).
    __table_args__ = (
        Index("ix_episode_search_document", "document", postgresql_using="gin"),
        # Newest first within a state: the catalogue filtered by state reads only its page.
        Index("ix_episode_search_state", "state", "episode_id"),
    )
