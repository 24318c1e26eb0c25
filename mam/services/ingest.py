"""Ingest: catalogue a local file as a new version of an episode."""

from __future__ import annotations

import errno
import logging
import mimetypes
import os
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mam import inputs, outbox, search
from mam.audit import AuditAction, ObjectType, record
from mam.errors import Conflict, Duplicate, InvalidInput, NotFound
from mam.messages import catalogue, media
from mam.models import (
    Asset,
    Episode,
    Job,
    JobKind,
    Programme,
    Role,
    SourceType,
    User,
    Version,
)
from mam.probe import MediaInfo, probe, probe_url
from mam.services.edit_rights import require_create_programme, require_edit
from mam.services.fingerprints import file_fingerprint, stored_fingerprint
from mam.services.review import ReviewService
from mam.uow import checkpoint
from storage import Storage

log = logging.getLogger(__name__)

MAX_TITLE = 300
MAX_PROGRAMME = 200


def original_key(sha256: str) -> str:
    """Return the storage key of an original file."""
    return f"originals/{sha256}"


def clean_text(value: str, field: str, limit: int) -> str:
    """Normalise a user-given name: NFC, trimmed, no control characters, bounded length."""
    return inputs.clean_text(value, field, limit)


def display_filename(name: str) -> str:
    """Return a file name safe to show and store: no directories, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch) != "Cc").strip()
    return (base or "unnamed")[:255]


@dataclass(frozen=True)
class _Request:
    """A validated ingest request: who, what, where to, and the probed media."""

    path: Path
    filename: str
    programme: str
    title: str
    source: SourceType
    uploader: User | None
    create_programme: bool
    info: MediaInfo


@dataclass(frozen=True)
class IngestResult:
    version: Version
    job: Job
    new_episode: bool


class IngestService:
    """Copy a file into storage (hashing as it goes), probe it, record it, enqueue work."""

    def __init__(
        self,
        session: Session,
        storage: Storage,
        *,
        prober: Callable[..., MediaInfo] = probe,
    ) -> None:
        self.session = session
        self.storage = storage
        self.prober = prober

    def ingest_file(
        self,
        path: str | os.PathLike[str],
        *,
        programme: str,
        title: str,
        source: SourceType | str = SourceType.SELF,
        uploader: User | None = None,
        create_programme: bool = True,
        filename: str | None = None,
    ) -> IngestResult:
        """Ingest the file at ``path`` as the next version of ``programme`` / ``title``."""
        req = self._prepare(path, filename, programme, title, source, uploader, create_programme)
        path, shown = req.path, req.filename
        incoming = f"incoming/{uuid.uuid4().hex}"
        try:
            size, sha = self.storage.put_file_sha256(incoming, path)
            self._refuse_duplicate(sha, shown)
            fingerprint = file_fingerprint(path)
            key = original_key(sha)
            existed = self.storage.exists(key)  # an orphan left by a crash, or a racing ingest
            self.storage.move(incoming, key)
        except BaseException:
            self.storage.delete(incoming)
            raise
        return self._finish(
            req, sha=sha, key=key, size=size, existed=existed, fingerprint=fingerprint
        )

    def ingest_stored(
        self,
        path: str | os.PathLike[str],
        *,
        sha256: str,
        programme: str,
        title: str,
        source: SourceType | str = SourceType.SELF,
        uploader: User | None = None,
        create_programme: bool = True,
        filename: str | None = None,
    ) -> IngestResult:
        """Ingest a completed upload whose SHA-256 is already known; the file is moved in.

        On local storage on the same filesystem the file is renamed into place (no second
        copy of a multi-gigabyte upload); otherwise it is streamed into storage. ``path``
        is left in place when refused before storing (not media, duplicate), else consumed.
        """
        req = self._prepare(path, filename, programme, title, source, uploader, create_programme)
        path, shown = req.path, req.filename
        self._refuse_duplicate(sha256, shown)
        key = original_key(sha256)
        existed = self.storage.exists(key)
        size = path.stat().st_size
        fingerprint = file_fingerprint(path)
        if not existed:
            self._adopt(path, key)
        return self._finish(
            req, sha=sha256, key=key, size=size, existed=existed, fingerprint=fingerprint
        )

    def ingest_object(
        self,
        key: str,
        *,
        sha256: str,
        size: int,
        programme: str,
        title: str,
        source: SourceType | str = SourceType.SELF,
        uploader: User | None = None,
        filename: str,
    ) -> IngestResult:
        """Ingest an object already in storage under ``key`` (a finished multipart upload).

        It is probed where it lies (through a presigned URL on object storage) and moved to
        its original key. Refused before storing (not media, duplicate), it is left in place.
        """
        shown = display_filename(filename)
        programme = clean_text(programme, "programme", MAX_PROGRAMME)
        title = clean_text(title, "title", MAX_TITLE)
        kind = _source_type(source)
        self.check_rights(programme, uploader)
        local = self.storage.local_path(key)
        if local is not None:
            info = self.prober(local, display_name=shown)
        else:
            url = self.storage.presigned_url(key, expires=3600)
            if url is None:
                raise InvalidInput(
                    media.NOT_PROBED, params={"file": shown, "storage": self.storage.name}
                )
            info = probe_url(url, display_name=shown)
        checkpoint(self.session, "no transaction held while the object is fingerprinted and moved")
        req = _Request(Path(key), shown, programme, title, kind, uploader, True, info)
        self._refuse_duplicate(sha256, shown)
        fingerprint = stored_fingerprint(self.storage, key, size)
        dest = original_key(sha256)
        existed = self.storage.exists(dest)
        if existed:
            self.storage.delete(key)
        else:
            self.storage.move(key, dest)
        return self._finish(
            req, sha=sha256, key=dest, size=size, existed=existed, fingerprint=fingerprint
        )

    def _adopt(self, path: Path, key: str) -> None:
        """Move the file at ``path`` into storage under ``key``."""
        dest = self.storage.local_path(key)
        if dest is not None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                path.replace(dest)
                return
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
        self.storage.put_file(key, path)
        path.unlink()

    def _prepare(
        self,
        path: str | os.PathLike[str],
        filename: str | None,
        programme: str,
        title: str,
        source: SourceType | str,
        uploader: User | None,
        create_programme: bool,
    ) -> _Request:
        """Validate the fields and probe the file, before any byte is stored."""
        path = Path(path)
        shown = display_filename(filename or path.name)
        programme = clean_text(programme, "programme", MAX_PROGRAMME)
        title = clean_text(title, "title", MAX_TITLE)
        source = _source_type(source)
        self.check_rights(programme, uploader)
        if not path.is_file():
            raise InvalidInput(media.NO_SUCH_FILE, params={"file": shown}, field="file")
        info = self.prober(path, display_name=shown)
        # End any transaction before the long copy: on SQLite an open one holds the
        # database's write lock, and the worker and web must keep writing meanwhile.
        checkpoint(self.session, "no transaction held across the long copy into storage")
        return _Request(path, shown, programme, title, source, uploader, create_programme, info)

    def _finish(
        self, req: _Request, *, sha: str, key: str, size: int, existed: bool, fingerprint: str
    ) -> IngestResult:
        shown = req.filename
        try:
            result = self._record(req, sha=sha, key=key, size=size, fingerprint=fingerprint)
        except IntegrityError as exc:
            self.session.rollback()
            self._cleanup_original(sha, existed)
            self._refuse_duplicate(sha, shown)  # lost a race with the same content
            raise Conflict(
                media.NOT_CATALOGUED, params={"file": shown}, detail=str(exc.orig)
            ) from exc
        except BaseException:
            self.session.rollback()
            self._cleanup_original(sha, existed)
            raise
        self._index(result)
        self._enqueue(result)
        return result

    def _index(self, result: IngestResult) -> None:
        # The search row is derived data: a failure here must not undo the ingest (a
        # savepoint undoes only the index row).
        try:
            with self.session.begin_nested():
                search.index_episode(self.session, result.version.episode_id)
        except Exception:
            log.exception("could not index episode %s for search", result.version.episode_id)

    def _record(
        self, req: _Request, *, sha: str, key: str, size: int, fingerprint: str
    ) -> IngestResult:
        programme, title, source, uploader = req.programme, req.title, req.source, req.uploader
        filename, info, create_programme = req.filename, req.info, req.create_programme
        prog = self.session.scalar(select(Programme).where(Programme.name == programme))
        if prog is None:
            if not create_programme:
                raise NotFound(catalogue.PROGRAMME_MISSING, params={"programme": programme})
            prog = self._create_programme(programme, uploader)
        else:
            require_edit(self.session, uploader, prog)
        episode = self.session.scalar(
            select(Episode).where(Episode.programme_id == prog.id, Episode.title == title)
        )
        new_episode = episode is None
        if episode is None:
            episode = Episode(
                programme=prog,
                title=title,
                source_type=source,
                created_by_id=uploader.id if uploader else None,
            )
            self.session.add(episode)
            self.session.flush()
        number = (
            self.session.scalar(
                select(func.max(Version.number)).where(Version.episode_id == episode.id)
            )
            or 0
        ) + 1
        asset = Asset(
            sha256=sha,
            storage_key=key,
            size=size,
            fingerprint=fingerprint,
            original_filename=filename,
            media_info=info.to_dict(),
        )
        version = Version(
            episode=episode,
            number=number,
            asset=asset,
            uploaded_by_id=uploader.id if uploader else None,
        )
        job = Job(version=version, kind=JobKind.PROCESS)
        self.session.add_all([asset, version, job])
        self.session.flush()
        record(
            self.session,
            AuditAction.INGEST,
            uploader,
            ObjectType.VERSION,
            version.id,
            to_state=version.state.value,
            details={
                "sha256": sha,
                "filename": filename,
                "size": size,
                "mime_type": mimetypes.guess_type(filename)[0],
            },
        )
        # A new cut retires the older ones and voids their approvals, in the same
        # transaction (docs/architecture.md: a new version voids approvals of older ones).
        ReviewService(self.session).supersede_older(version)
        self.session.flush()
        return IngestResult(version=version, job=job, new_episode=new_episode)

    def check_rights(self, programme: str, uploader: User | None) -> None:
        """Refuse before any byte is stored unless ``uploader`` may add to ``programme``.

        An existing programme takes new episodes and versions from the people who may edit
        it; a new one may be created by any producer or admin. None is the system (an
        operator's ``mam ingest`` without ``--as-user``).
        """
        prog = self.session.scalar(select(Programme).where(Programme.name == programme))
        if prog is None:
            require_create_programme(uploader, programme)
        else:
            require_edit(self.session, uploader, prog)

    def _create_programme(self, name: str, uploader: User | None) -> Programme:
        """Create programme ``name``; the producer who creates it becomes responsible for it."""
        require_create_programme(uploader, name)
        producer = uploader if uploader is not None and uploader.has_role(Role.PRODUCER) else None
        prog = Programme(name=name, producer_id=producer.id if producer else None)
        self.session.add(prog)
        self.session.flush()
        record(
            self.session, AuditAction.PROGRAMME_CREATED, uploader, ObjectType.PROGRAMME, prog.id,
            details={"name": name, "producer_id": prog.producer_id},
        )  # fmt: skip
        return prog

    def _refuse_duplicate(self, sha: str, shown: str) -> None:
        existing = self.session.scalar(select(Version).join(Asset).where(Asset.sha256 == sha))
        if existing is not None:
            ep = existing.episode
            raise Duplicate(
                media.DUPLICATE,
                params={
                    "filename": shown,
                    "programme": ep.programme.name,
                    "title": ep.title,
                    "number": existing.number,
                    "version_id": existing.id,
                },
                version_id=existing.id,
                episode_id=ep.id,
                number=existing.number,
                match="sha256",
            )

    def _cleanup_original(self, sha: str, existed: bool) -> None:
        # Delete only what this ingest created and no row owns: if the object was there
        # before, a concurrent ingest of the same content may be about to commit it.
        if existed:
            return
        owned = self.session.scalar(select(Asset.id).where(Asset.sha256 == sha))
        if owned is None:
            self.storage.delete(original_key(sha))

    def _enqueue(self, result: IngestResult) -> None:
        # Durable: the outbox row commits with the version; sent after the commit.
        outbox.enqueue_processing(self.session, result.job)


def _source_type(value: SourceType | str) -> SourceType:
    try:
        return SourceType(value)
    except ValueError:
        raise InvalidInput(catalogue.SOURCE_INVALID, params={"value": value}) from None
