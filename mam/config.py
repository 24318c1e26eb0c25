"""All settings, read from ``MAM_*`` environment variables (the only place that reads them)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"expected a boolean (1/0, true/false), got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Typed settings; every field maps to ``MAM_<FIELD NAME IN CAPITALS>``."""

    # Where the embedded default keeps its database, storage, broker and temp files.
    home: Path = field(default_factory=lambda: Path("var").resolve())
    # SQLAlchemy URL. Production: postgresql+psycopg://user:pass@host:5432/mam
    database_url: str = ""
    # "local" (a directory) or "s3" (any S3 API: AWS, MinIO, moto).
    storage_backend: str = "local"
    storage_root: Path | None = None
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_prefix: str = ""
    s3_create_bucket: bool = False
    # Endpoint browsers can reach, for presigned links (when MAM_S3_ENDPOINT_URL is internal).
    s3_public_endpoint_url: str = ""
    # Celery broker. Embedded default: kombu's filesystem transport under <home>/broker.
    # Production: redis://host:6379/0
    broker_url: str = "filesystem://localhost//"
    broker_dir: Path | None = None
    # Seconds a task may stay unacknowledged before the broker redelivers it (Redis).
    visibility_timeout: int = 8 * 3600
    # Soft/hard time limits of one transcode task, in seconds.
    transcode_soft_time_limit: int = 6 * 3600
    transcode_time_limit: int = 6 * 3600 + 300
    # Processing attempts before a job is failed for good (transient errors only).
    max_attempts: int = 3
    # Seconds a running job's or package build's lease lasts without renewal; the reconciler
    # takes over only an expired lease (renewed every third of this while the worker lives).
    lease_seconds: int = 300
    # Proxy first: a fast first job makes the review proxy, poster, thumbnails, sprite and QC
    # (the version becomes reviewable), then a second job (JobKind.LADDER) the distribution
    # ladder on the transcode queue; release waits for it (docs/architecture.md).
    proxy_first: bool = False
    # With proxy_first: hold the ladder until the version is approved (saves CPU on
    # rejected cuts, delays release by the ladder's time after approval).
    ladder_after_approval: bool = False
    # Sources at least this long (seconds, constant frame rate) have their ladder encoded in
    # chunks of about chunk_seconds across the workers (a Celery chord); 0 = never.
    chunk_min_seconds: int = 900
    chunk_seconds: int = 180
    # Celery result backend, needed by the chord of a chunked ladder only; empty = the
    # broker's Redis, or (embedded default) a SQLite file under home.
    result_backend: str = ""
    # Threads given to ffmpeg (0 = ffmpeg decides).
    ffmpeg_threads: int = 0
    # Scratch space for ffmpeg outputs before they are published to storage.
    work_dir: Path | None = None
    secret_key: str = ""
    default_locale: str = "zh_CN"
    # Number of reverse proxies in front of the web app whose X-Forwarded-* to trust.
    trusted_proxies: int = 0
    # Send cookies only over HTTPS (set in production behind TLS).
    secure_cookies: bool = False
    web_host: str = "127.0.0.1"
    web_port: int = 5000
    # Distribution profiles file (TOML); empty = the one shipped in workers/profiles.toml.
    profiles: Path | None = None
    # Largest accepted upload, bytes (50 GB).
    max_upload_size: int = 50 * 1000**3
    # Review notices by mail: smtp://user:pass@host:587 (smtps:// for TLS); empty = no mail.
    smtp_url: str = ""
    mail_from: str = "mam@localhost"
    # /readyz fails when the work dir has less free space than this (bytes; 1 GB).
    min_free_bytes: int = 1000**3
    # /metrics: a bearer token that may read it besides admins (empty = admins only).
    metrics_token: str = ""
    # Log lines as JSON objects ("json") or text ("text").
    log_format: str = "text"
    # Fixity audit: bytes re-hashed per beat run, and the seconds between runs.
    fixity_bytes_per_run: int = 2 * 1000**3
    fixity_interval: int = 3600
    # Fast paths that rely on library internals, each checked against the pinned versions
    # (requirements/*.txt): gunicorn's socket read and OpenSSL's SHA-256 state via ctypes.
    fast_socket_read: bool = True
    resumable_sha256_ctypes: bool = True
    # Screening reports ask for attendance split into party members and masses (党员/群众).
    screening_party_split: bool = False
    # Largest screening photo accepted, bytes (JPEG, PNG or WebP).
    screening_photo_max_bytes: int = 8 * 1000**2
    # Target assessment (目标考核): indicator weights as name=weight pairs (plan, utilisation,
    # coverage, buildout, receipts; unnamed ones keep their defaults), and the days after
    # publication within which a receipt counts as timely.
    assessment_weights: str = ""
    assessment_receipt_days: int = 7

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from defaults, then ``MAM_*`` variables, then ``overrides``."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get("MAM_" + f.name.upper())
            if raw is None:
                continue
            try:
                values[f.name] = _convert(f.type, raw)
            except ValueError as exc:
                raise ValueError(f"MAM_{f.name.upper()}: {exc}") from exc
        values.update(overrides)
        return cls(**values).resolved()

    def resolved(self) -> Settings:
        """Fill the derived defaults (paths under ``home``, SQLite URL, secret key)."""
        home = Path(self.home).resolve()
        return replace(
            self,
            home=home,
            database_url=self.database_url or f"sqlite:///{home / 'mam.db'}",
            storage_root=Path(self.storage_root or home / "storage").resolve(),
            broker_dir=Path(self.broker_dir or home / "broker").resolve(),
            work_dir=Path(self.work_dir or home / "tmp").resolve(),
            secret_key=self.secret_key or _persistent_secret(home),
        )

    def to_env(self) -> dict[str, str]:
        """Return ``MAM_*`` variables that reproduce these settings in another process."""
        env: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, bool):
                value = "1" if value else "0"
            env["MAM_" + f.name.upper()] = str(value)
        return env

    @property
    def upload_staging_dir(self) -> Path:
        """Return where resumable uploads collect their bytes (beside the work dir)."""
        return Path(self.work_dir or self.home / "tmp") / "uploads"

    @property
    def embedded_broker(self) -> bool:
        """Say whether the broker is the on-disk filesystem transport."""
        return self.broker_url.startswith("filesystem://")

    def storage_options(self) -> dict[str, Any]:
        """Return keyword arguments for ``storage.create_storage``."""
        if self.storage_backend == "local":
            return {"root": self.storage_root}
        if self.storage_backend == "s3":
            if not self.s3_bucket:
                raise ValueError("MAM_S3_BUCKET is required when MAM_STORAGE_BACKEND=s3")
            return {
                "bucket": self.s3_bucket,
                "endpoint_url": self.s3_endpoint_url or None,
                "region_name": self.s3_region,
                "prefix": self.s3_prefix,
                "create_bucket": self.s3_create_bucket,
                "public_endpoint_url": self.s3_public_endpoint_url or None,
            }
        raise ValueError(
            f"MAM_STORAGE_BACKEND must be 'local' or 's3', not {self.storage_backend!r}"
        )


def _convert(kind: Any, raw: str) -> Any:
    kind = str(kind)
    if kind.startswith("bool"):
        return _bool(raw)
    if kind.startswith("int"):
        try:
            return int(raw.replace("_", ""))
        except ValueError:
            raise ValueError(f"expected an integer, got {raw!r}") from None
    if kind.startswith("Path"):
        return Path(raw) if raw else None
    return raw


def _persistent_secret(home: Path) -> str:
    """Return the secret key kept in ``<home>/secret_key``, creating it once."""
    path = home / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        home.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


def cli_locale(env: Mapping[str, str] | None = None) -> str:
    """Return the language the command line speaks: ``MAM_LOCALE``, else the usual POSIX
    variables (``LC_ALL``, ``LC_MESSAGES``, ``LANG``); empty means English."""
    env = os.environ if env is None else env
    for name in ("MAM_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return env[name]
    return ""
