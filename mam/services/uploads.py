"""Resumable uploads (the tus 1.0 model): sessions, offsets, incremental SHA-256, expiry.

Where the bytes go depends on the storage. On local storage they are appended to one
staging file per upload under ``<work_dir>/uploads``, which is renamed into storage when
the last byte arrives. On object storage (S3) they are streamed into a multipart upload:
bytes gather in a small local spool file (the same staging path) and every
``part_size`` bytes become one part; the parts' ETags are recorded on the session and
the upload is completed, probed in place and moved to its original key at the end.

SHA-256 is computed while bytes arrive, and its running state is saved on the session
in the same commit as the offset (``storage.hashing.ResumableSha256``), so a PATCH
served by another process or after a restart continues the hash exactly where the
committed offset is. Without a usable saved state, a local upload re-hashes its staged
prefix; an S3 upload, whose bytes are no longer local, has to start again.

The database offset is the truth: a PATCH truncates the staging/spool file to the part
of the offset it holds before appending, so bytes written by a request that died before
committing are discarded; the file is fdatasync'ed once before the offset is committed.
An exclusive ``flock`` on the staging file serialises concurrent PATCHes of one upload
across threads and processes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import mimetypes
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from mam.errors import Conflict, InvalidInput, InvalidMedia, MamError, NotFound, Unavailable
from mam.machines import UPLOAD, UploadEvent
from mam.messages import media
from mam.models import Episode, Programme, Role, User, utcnow
from mam.models.catalogue import UploadSession, UploadState
from mam.services import fingerprints, metadata
from mam.services.ingest import IngestService, clean_text, display_filename
from mam.services.upload_receive import (
    Digest,
    MappedFileTarget,
    Receiver,
    WriteTarget,
    hash_file_prefix,
    pwrite_all,
    resume_digest,
    saved_state,
)
from mam.uow import after_commit, checkpoint
from storage import Storage, StorageError
from storage.base import UploadedPart

log = logging.getLogger(__name__)

PART_SIZE = 16 << 20  # multipart part size on object storage (the spool's size)
LOCK_WAIT = 3.0  # seconds a PATCH waits for the previous one on the same upload to finish
DEFAULT_EXPIRY = timedelta(hours=24)
_MEDIA = (
    "mp4 m4v mov mkv avi wmv asf flv f4v webm ogv ogg mpg mpeg m2v vob ts mts m2ts mxf dv 3gp "
    "3g2 rm rmvb m4a mp3 wav aac flac opus wma ac3 y4m nut h264 264 hevc 265"
)
MEDIA_SUFFIXES = frozenset("." + s for s in _MEDIA.split(" "))


class TooLarge(MamError):
    """The upload would exceed the configured maximum size."""

    http_status = 413


class NoSpace(MamError):
    """The staging disk cannot hold the bytes announced."""

    http_status = 507


class Busy(MamError):
    """Another request is writing to this upload right now."""

    http_status = 423


def not_media_kind(filename: str, filetype: str = "") -> str | None:
    """Return the type of a file that is not audio/video by its type and name, or None."""
    kind = (filetype or "").split(";")[0].strip().lower()
    suffix = Path(filename).suffix.lower()
    if kind.startswith(("video/", "audio/")) or suffix in MEDIA_SUFFIXES:
        return None
    kind = kind or mimetypes.guess_type(filename)[0] or ""
    return kind or suffix or "?"


def looks_like_media(filename: str, filetype: str = "") -> str | None:
    """Return why a file is not audio/video judging by its type and name (English), or None."""
    kind = not_media_kind(filename, filetype)
    return None if kind is None else media.NOT_MEDIA.template % {"file": filename, "kind": kind}


class UploadService:
    """Create, append to, finish, cancel and expire resumable uploads."""

    def __init__(
        self,
        session: Session,
        storage: Storage,
        staging_dir: Path,
        *,
        max_size: int,
        expiry: timedelta = DEFAULT_EXPIRY,
        ingest: IngestService | None = None,
    ) -> None:
        self.session = session
        self.storage = storage
        self.staging_dir = Path(staging_dir)
        self.max_size = max_size
        self.expiry = expiry
        self.ingest = ingest or IngestService(session, storage)

    def staging_path(self, upload_id: str) -> Path:
        """Return where an upload's bytes are staged."""
        return self.staging_dir / f"{upload_id}.part"

    # ---- lifecycle ------------------------------------------------------------------

    def create(
        self, user: User, *, length: int, filename: str, meta: Mapping[str, Any]
    ) -> UploadSession:
        """Open an upload of ``length`` bytes after validating what it will be catalogued as."""
        if length < 1:
            raise InvalidInput(media.UPLOAD_LENGTH)
        if length > self.max_size:
            raise TooLarge(
                media.UPLOAD_TOO_LARGE, params={"size": length, "limit": self.max_size}
            )
        shown = display_filename(filename or "unnamed")
        kind = not_media_kind(shown, str(meta.get("filetype") or ""))
        if kind:
            raise InvalidMedia(media.NOT_MEDIA, params={"file": shown, "kind": kind})
        cleaned = self.clean_target(meta)
        self._check_rights(user, cleaned)
        if meta.get("fingerprint"):  # sent by the upload page: refuse a duplicate at once
            value = fingerprints.parse(str(meta["fingerprint"]), length)
            if value is not None:
                fingerprints.FingerprintIndex(self.session, self.storage).refuse(value, shown)
        self.expire()
        upload = UploadSession(
            id=secrets.token_hex(16),
            user_id=user.id,
            filename=shown,
            length=length,
            offset=0,
            meta=cleaned,
            expires_at=utcnow() + self.expiry,
        )
        if self.storage.multipart_min_part is not None:
            upload.multipart_id = self.storage.start_multipart(self.object_key(upload.id))
            upload.parts = []
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        self.staging_path(upload.id).touch(exist_ok=False)
        self.session.add(upload)
        self.session.flush()
        return upload

    def clean_target(self, meta: Mapping[str, Any]) -> dict[str, Any]:
        """Validate programme/title (or episode_id) and the metadata; return JSON-able data."""
        out: dict[str, Any] = {}
        if meta.get("episode_id"):
            episode = metadata.episode_or_404(self.session, meta["episode_id"])
            out.update(episode_id=episode.id, programme=episode.programme.name, title=episode.title)
        else:
            out["programme"] = clean_text(str(meta.get("programme") or ""), "programme", 200)
            out["title"] = clean_text(str(meta.get("title") or ""), "title", 300)
        cleaned = metadata.clean_metadata(self.session, meta)
        for key, value in cleaned.items():
            out[key] = value.isoformat() if hasattr(value, "isoformat") else value
        return out

    def _check_rights(self, user: User, target: Mapping[str, Any]) -> None:
        """Refuse at creation, before any byte is sent, what the finished upload could not do:
        add to a programme ``user`` may not edit, or change a released episode's metadata."""
        self.ingest.check_rights(target["programme"], user)
        episode = self.session.scalar(
            select(Episode)
            .join(Programme)
            .where(Programme.name == target["programme"], Episode.title == target["title"])
        )
        if episode is not None:
            extra = {k: v for k, v in target.items() if k in metadata.FIELDS and k != "source"}
            metadata.require_change(
                self.session, user, episode, metadata.clean_metadata(self.session, extra)
            )

    def get(self, upload_id: str, user: User) -> UploadSession:
        """Return the caller's upload; someone else's is reported as missing."""
        upload = self.session.get(UploadSession, upload_id) if len(upload_id) == 32 else None
        if upload is None or (upload.user_id != user.id and not user.has_role(Role.ADMIN)):
            raise NotFound(media.UPLOAD_GONE)
        if upload.state is UploadState.EXPIRED or upload.state is UploadState.CANCELLED:
            raise NotFound(media.UPLOAD_ENDED, state=upload.state.value)
        return upload

    def append(
        self, upload_id: str, user: User, offset: int, stream: BinaryIO, size: int | None
    ) -> UploadSession:
        """Append the request body at ``offset``; ingest the file once complete."""
        upload = self.get(upload_id, user)
        if upload.state is not UploadState.OPEN:
            raise Conflict(media.UPLOAD_FINISHED, state=upload.state.value)
        if offset != upload.offset:
            raise Conflict(
                media.UPLOAD_OFFSET, params={"offset": offset, "received": upload.offset}
            )
        if size is not None and offset + size > upload.length:
            raise InvalidInput(media.UPLOAD_OVERRUN)
        path = self.staging_path(upload.id)
        checkpoint(self.session, "no transaction (nor SQLite write lock) across the transfer")
        with _locked(path) as fh:
            if upload.multipart_id:
                digest = self._receive_parts(upload, fh.fileno(), stream, size)
            else:
                digest = self._receive_local(upload, fh.fileno(), stream, size)
        if upload.offset == upload.length:
            self._finish(upload, user, digest)
        return upload

    # ---- receiving -------------------------------------------------------------------

    def _commit_offset(self, upload: UploadSession, offset: int, digest: Digest) -> None:
        upload.offset = offset
        upload.sha256_state = saved_state(digest)
        upload.updated_at = utcnow()
        upload.expires_at = upload.updated_at + self.expiry
        checkpoint(self.session, "the received offset and hash state survive a cut connection")

    def _receive_local(
        self, upload: UploadSession, fd: int, stream: BinaryIO, size: int | None
    ) -> Digest:
        """Append the body to the staging file; commit the new offset once it is durable."""
        base = upload.offset
        if os.fstat(fd).st_size < base:
            raise Conflict(media.UPLOAD_LOST)
        os.ftruncate(fd, base)
        digest = resume_digest(upload.sha256_state, base)
        if digest is None:  # no usable saved state (an old row, another OpenSSL): re-read
            digest = hash_file_prefix(fd, base)
        pos = base

        def write(block: memoryview) -> None:
            nonlocal pos
            pwrite_all(fd, block, pos)
            pos += len(block)

        target: MappedFileTarget | WriteTarget = WriteTarget(write)
        if size:  # the body's length is known: reserve it and receive into mapped pages
            try:
                os.posix_fallocate(fd, base, size)
            except OSError as exc:
                os.ftruncate(fd, base)
                if exc.errno == errno.ENOSPC:
                    raise NoSpace(media.UPLOAD_NO_SPACE, params={"size": size}) from None
                raise
            target = MappedFileTarget(fd, base)
        try:
            with Receiver(digest) as receiver:
                received = receiver.run(stream, size, upload.length - base, target)
        except BaseException:
            os.ftruncate(fd, base)
            raise
        os.ftruncate(fd, base + received)  # drop what was reserved but never arrived
        os.fdatasync(fd)
        self._commit_offset(upload, base + received, digest)
        return digest

    def part_size(self, length: int) -> int:
        """Return the multipart part size for an upload of ``length`` bytes."""
        most = self.storage.multipart_max_parts - 1
        return max(PART_SIZE, self.storage.multipart_min_part or 0, -(-length // most))

    def _receive_parts(
        self, upload: UploadSession, fd: int, stream: BinaryIO, size: int | None
    ) -> Digest:
        """Spool the body locally and send every ``part_size`` bytes as a multipart part."""
        parts = [UploadedPart(**p) for p in upload.parts or []]
        sent = sum(p.size for p in parts)
        spooled = upload.offset - sent
        if os.fstat(fd).st_size < spooled:
            raise Conflict(media.UPLOAD_LOST)
        os.ftruncate(fd, spooled)  # a part sent and committed before a crash is not re-sent
        digest = resume_digest(upload.sha256_state, upload.offset)
        if digest is None:
            raise Conflict(media.UPLOAD_LOST)
        part_size = self.part_size(upload.length)
        receiver = Receiver(digest)

        def send_part() -> None:
            nonlocal sent, spooled
            receiver.settle()  # the saved hash state must cover every byte sent
            with os.fdopen(os.dup(fd), "rb") as spool:
                part = self.storage.upload_part(
                    self.object_key(upload.id), upload.multipart_id or "", len(parts) + 1,
                    spool, spooled,
                )  # fmt: skip
            parts.append(part)
            sent += spooled
            spooled = 0
            upload.parts = [vars(p) for p in parts]
            self._commit_offset(upload, sent, digest)
            os.ftruncate(fd, 0)

        def write(block: memoryview) -> None:
            nonlocal spooled
            pwrite_all(fd, block, spooled)
            spooled += len(block)
            if spooled >= part_size:
                send_part()

        try:
            with receiver:
                receiver.run(stream, size, upload.length - upload.offset, WriteTarget(write))
        except BaseException:
            os.ftruncate(fd, upload.offset - sent)
            raise
        if sent + spooled == upload.length and spooled:
            send_part()  # the last part may be small
        os.fdatasync(fd)
        self._commit_offset(upload, sent + spooled, digest)
        return digest

    # ---- finishing -------------------------------------------------------------------

    def object_key(self, upload_id: str) -> str:
        """Return the storage key a multipart upload assembles the file under."""
        return f"incoming/uploads/{upload_id}"

    def _finish(self, upload: UploadSession, user: User, digest: Digest) -> None:
        upload.sha256 = digest.hexdigest()
        meta = dict(upload.meta)
        fields: dict[str, Any] = {
            "sha256": upload.sha256,
            "programme": meta["programme"],
            "title": meta["title"],
            "source": meta.get("source") or "self",
            "uploader": user,
            "filename": upload.filename,
        }
        path = self.staging_path(upload.id)
        key = self.object_key(upload.id)
        try:
            if upload.multipart_id:
                parts = [UploadedPart(**p) for p in upload.parts or []]
                self.storage.complete_multipart(key, upload.multipart_id, parts)
                upload.multipart_id = None
                checkpoint(self.session, "the assembled object is recorded before its parts go")
                path.unlink(missing_ok=True)
                result = self.ingest.ingest_object(key, size=upload.length, **fields)
            else:
                result = self.ingest.ingest_stored(path, **fields)
        except MamError as exc:
            self.session.rollback()
            self._fail(upload, user, exc.message)
            raise
        except Exception as exc:  # storage or database trouble once every byte had arrived
            self.session.rollback()
            log.exception(
                "upload %s: the finished file could not be stored or catalogued", upload.id
            )
            error = Unavailable(
                media.UPLOAD_NOT_STORED,
                params={"file": upload.filename},
                detail=f"{type(exc).__name__}: {exc}",
            )
            self._fail(upload, user, error.message)
            raise error from exc
        upload.version_id = result.version.id
        UPLOAD.fire(
            self.session, upload, UploadEvent.COMPLETE, user,
            details={"version_id": result.version.id, "filename": upload.filename},
        )  # fmt: skip
        extra = {k: v for k, v in meta.items() if k in metadata.FIELDS}
        if extra:
            episode = result.version.episode
            if not result.new_episode:
                extra.pop("source", None)  # a new cut does not change where the film came from
            metadata.apply_metadata(
                self.session, episode, metadata.clean_metadata(self.session, extra), user
            )
        self.session.flush()

    def _fail(self, upload: UploadSession, user: User, message: str) -> None:
        """Mark ``upload`` failed with ``message`` and remove the bytes it left anywhere.

        A failed upload is never half-registered: no version refers to its bytes, so the
        staged file, the assembled object and any open multipart upload all go; a client
        resuming it is told (410) and starts a new upload.
        """
        upload.error = message[:2000]
        UPLOAD.fire(
            self.session, upload, UploadEvent.REFUSE, user, reason=message[:2000],
            details={"filename": upload.filename},
        )  # fmt: skip
        checkpoint(self.session, "the failure survives the error raised next")
        self.staging_path(upload.id).unlink(missing_ok=True)
        key = self.object_key(upload.id)
        try:
            if upload.multipart_id:
                self.storage.abort_multipart(key, upload.multipart_id)
                upload.multipart_id = None
                checkpoint(self.session, "the aborted multipart upload is forgotten")
            else:
                self.storage.delete(key)
        except StorageError:
            log.exception("could not remove what failed upload %s left in storage", upload.id)

    def cancel(self, upload_id: str, user: User) -> None:
        """Terminate an upload and delete its staged bytes."""
        upload = self.get(upload_id, user)
        if upload.state is UploadState.OPEN:
            UPLOAD.fire(
                self.session, upload, UploadEvent.CANCEL, user,
                details={"filename": upload.filename},
            )  # fmt: skip
        self._discard_after_commit(upload)

    def expire(self, now: datetime | None = None) -> int:
        """Expire open uploads untouched past their expiry; delete their bytes. Return count."""
        now = now or utcnow()
        stale = list(
            self.session.scalars(
                select(UploadSession).where(
                    UploadSession.state == UploadState.OPEN, UploadSession.expires_at < now
                )
            )
        )
        expired = []
        for upload in stale:
            if upload.state is not UploadState.OPEN:  # finished or cancelled meanwhile
                continue
            try:
                with self.session.begin_nested():  # a savepoint: only this upload is undone
                    UPLOAD.fire(self.session, upload, UploadEvent.EXPIRE, None)
            except StaleDataError:  # a PATCH arrived meanwhile: the upload is alive
                continue
            expired.append(upload)
            self._discard_after_commit(upload)
        return len(expired)

    def _discard_after_commit(self, upload: UploadSession) -> None:
        """Delete the upload's staged bytes and abort its multipart upload once the state
        change is committed (a rollback keeps them: the upload stays usable)."""
        after_commit(self.session, partial(self._discard, upload.id, upload.multipart_id))
        upload.multipart_id = None

    def _discard(self, upload_id: str, multipart_id: str | None) -> None:
        self.staging_path(upload_id).unlink(missing_ok=True)
        if multipart_id:
            try:
                self.storage.abort_multipart(self.object_key(upload_id), multipart_id)
            except StorageError:  # the bucket's AbortIncompleteMultipartUpload rule is the net
                log.exception("could not abort the multipart upload of %s", upload_id)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[BinaryIO]:
    """Open the staging file for update under an exclusive, non-blocking lock."""
    try:
        fh = path.open("r+b")
    except FileNotFoundError:
        raise NotFound(media.UPLOAD_LOST) from None
    with fh:
        # A PATCH whose connection was just cut is still committing its offset for a moment;
        # a client that resumes at once waits for it instead of getting 423. A writer that
        # holds the lock longer than LOCK_WAIT is a real concurrent request: 423.
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Busy(media.UPLOAD_BUSY) from None
                time.sleep(0.05)
        try:
            yield fh
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
