"""SQLAlchemy 2.0 models: the core of the data model (docs/architecture.md)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from mam.models.network import Township


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store timestamps as UTC; always hand back aware datetimes (SQLite forgets tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use mam.models.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


def _enum(cls: type[enum.Enum]) -> Enum:
    """Store an enum by value as a plain string (portable, readable in SQL)."""
    return Enum(
        cls,
        native_enum=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Role(enum.StrEnum):
    PRODUCER = "producer"
    REVIEWER = "reviewer"
    PUBLISHER = "publisher"
    COUNTY = "county"
    TOWNSHIP = "township"  # a township station (乡镇电教站); scoped by User.township_id
    LEARNER = "learner"  # 网上党员教育: watches its county's films, nothing else
    ADMIN = "admin"
    SYSTEM = "system"  # the workers; never granted to a person


class SourceType(enum.StrEnum):
    SELF = "self"  # 自制
    IMPORTED = "imported"  # 引进
    GENERAL = "general"  # 省市通用教材


class VersionState(enum.StrEnum):
    UPLOADED = "uploaded"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    RELEASED = "released"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"  # a newer version of the episode replaced it before release


class JobKind(enum.StrEnum):
    PROCESS = "process"  # everything, or (MAM_PROXY_FIRST) the review proxy, stills and QC
    LADDER = "ladder"  # the distribution ladder after a proxy-first run (mam/services/ladder.py)


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    SKIPPED = "skipped"  # the version no longer needed processing (nothing was made)
    FAILED = "failed"
    WAITING = "waiting"  # a ladder held until its version is approved (MAM_LADDER_AFTER_APPROVAL)


class County(Base):
    __tablename__ = "county"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # County profile: what the supply standard (copies per release) is computed from.
    villages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    playback_points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The county's own station logo (PNG with alpha) for its TV package (0023_branding).
    logo_key: Mapped[str | None] = mapped_column(String(300))


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    county_id: Mapped[int | None] = mapped_column(ForeignKey("county.id"))
    # Township accounts: their station (county_id is its county, kept in step by the service).
    township_id: Mapped[int | None] = mapped_column(ForeignKey("township.id"))
    locale: Mapped[str | None] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254))  # review notices, if SMTP is set
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by an administrator's reset: the temporary password must be replaced at sign-in.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    password_changed_at: Mapped[datetime | None] = mapped_column()

    county: Mapped[County | None] = relationship()
    township: Mapped[Township | None] = relationship()
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> frozenset[Role]:
        """Return the roles granted to this user."""
        return frozenset(r.role for r in self.role_rows)

    def has_role(self, *roles: Role) -> bool:
        """Say whether the user holds any of ``roles``."""
        return bool(self.roles.intersection(roles))

    # The session-login protocol (is_authenticated, is_active, get_id), duck-typed so the
    # domain needs no web framework.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """Return the id a login session stores."""
        return str(self.id)


class UserRole(Base):
    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role))

    user: Mapped[User] = relationship(back_populates="role_rows")


class Programme(Base):
    """A TV column (栏目) or film series, with its responsible producer."""

    __tablename__ = "programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    producer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    producer: Mapped[User | None] = relationship()
    episodes: Mapped[list[Episode]] = relationship(
        back_populates="programme", order_by="Episode.id"
    )


class Episode(Base):
    __tablename__ = "episode"
    __table_args__ = (UniqueConstraint("programme_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    number: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    synopsis: Mapped[str] = mapped_column(Text, default="")
    source_type: Mapped[SourceType] = mapped_column(_enum(SourceType), default=SourceType.SELF)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    programme: Mapped[Programme] = relationship(back_populates="episodes")
    versions: Mapped[list[Version]] = relationship(
        back_populates="episode", order_by="Version.number"
    )

    @property
    def latest_version(self) -> Version | None:
        """Return the newest version (the one under work), if any."""
        return self.versions[-1] if self.versions else None


class Asset(Base):
    """An original file, stored once under ``originals/<sha256>``; never modified."""

    __tablename__ = "asset"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    storage_key: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    original_filename: Mapped[str] = mapped_column(String(500))
    media_info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "<size>:<sha256 of the first 4 MiB>:<sha256 of the last 4 MiB>" (mam.services.fingerprints):
    # lets an upload that is certainly a duplicate be refused before its bytes are sent.
    # Filled at ingest; rows from before 0014 get it when a file of their size arrives.
    fingerprint: Mapped[str | None] = mapped_column(String(160))


class Version(Base):
    """One cut of an episode; its state moves only through ``mam.workflow.transition``."""

    __tablename__ = "version"
    __table_args__ = (UniqueConstraint("episode_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id"), unique=True)
    state: Mapped[VersionState] = mapped_column(
        _enum(VersionState), default=VersionState.UPLOADED, index=True
    )
    failure_reason: Mapped[str | None] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Optimistic concurrency: every UPDATE checks and bumps it; of two racing writers one
    # gets StaleDataError (mapped to Conflict).
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    episode: Mapped[Episode] = relationship(back_populates="versions")
    asset: Mapped[Asset] = relationship(lazy="joined")
    uploaded_by: Mapped[User | None] = relationship()
    renditions: Mapped[list[Rendition]] = relationship(
        back_populates="version", order_by="Rendition.profile", cascade="all, delete-orphan"
    )
    jobs: Mapped[list[Job]] = relationship(back_populates="version", order_by="Job.id")

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def sha256(self) -> str:
        """Return the SHA-256 of the original file."""
        return self.asset.sha256

    def rendition(self, profile: str) -> Rendition | None:
        """Return this version's rendition for ``profile``, if made."""
        return next((r for r in self.renditions if r.profile == profile), None)


class Rendition(Base):
    """A derived file (proxy, distribution format, poster) of one version."""

    __tablename__ = "rendition"
    __table_args__ = (UniqueConstraint("version_id", "profile"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id", ondelete="CASCADE"))
    profile: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    bit_rate: Mapped[int | None] = mapped_column(BigInteger)
    media_info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    version: Mapped[Version] = relationship(back_populates="renditions")


class Job(Base):
    """A unit of background work; this row, not the broker, is the truth about it.

    Its state moves only through ``mam.machines.JOB``."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("version.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[JobKind] = mapped_column(_enum(JobKind))
    state: Mapped[JobState] = mapped_column(_enum(JobState), default=JobState.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    eta_seconds: Mapped[float | None] = mapped_column(Float)
    worker: Mapped[str | None] = mapped_column(String(200))
    task_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)  # English, for logs and old rows
    # Why it failed, as a code of mam.messages and its parameters (shown translated).
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    # The running attempt's lease (held by ``worker``, number ``attempts``): renewed by every
    # stage; the reconciler takes over only an expired one (mam/leases.py).
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    lock_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    version: Mapped[Version | None] = relationship(back_populates="jobs")

    __mapper_args__ = {"version_id_col": lock_version}


class AuditEvent(Base):
    """Append-only record of a state change or permission-relevant act."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(Integer)
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    actor: Mapped[User | None] = relationship()


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(_mapper: Any, _conn: Any, target: AuditEvent) -> None:
    raise RuntimeError(f"audit events are append-only (event {target.id})")
