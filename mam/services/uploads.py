"""Resumable uploads (the tus 1.0 model): sessions, offsets, incremental SHA-256, expiry.

Bytes are staged in one local file per upload under ``<work_dir>/uploads`` whatever the
storage backend; when the last byte arrives the file is ingested (renamed into local
storage, or streamed to S3) and the staging file is gone.

SHA-256 is computed while bytes arrive. A hashlib object cannot be saved, so each process
keeps the running hash of the uploads it served in memory together with the offset it
covers; a PATCH served by a process that has no hash at exactly the committed offset
(after a restart, or on another gunicorn worker) first re-hashes the staged prefix from
disk. Only bytes covered by a committed offset are ever hashed, so the result is always
the digest of the complete file.

The database offset is the truth: a PATCH truncates the staging file to it before
appending, so bytes written by a request that died before committing are discarded.
An exclusive ``flock`` on the staging file serialises concurrent PATCHes of one upload
across threads and processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import mimetypes
import os
import secrets
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import Conflict, InvalidInput, InvalidMedia, MamError, NotFound
from mam.models import Role, User, utcnow
from mam.models.catalogue import UploadSession, UploadState
from mam.queue import TaskQueue
from mam.services import metadata
from mam.services.ingest import IngestService, clean_text, display_filename
from storage import Storage

log = logging.getLogger(__name__)

CHUNK = 4 << 20
DEFAULT_EXPIRY = timedelta(hours=24)
_MEDIA = (
    "mp4 m4v mov mkv avi wmv asf flv f4v webm ogv ogg mpg mpeg m2v vob ts mts m2ts mxf dv 3gp "
    "3g2 rm rmvb m4a mp3 wav aac flac opus wma ac3 y4m nut h264 264 hevc 265"
)
MEDIA_SUFFIXES = frozenset("." + s for s in _MEDIA.split(" "))


class TooLarge(MamError):
    """The upload would exceed the configured maximum size."""

    http_status = 413


class Busy(MamError):
    """Another request is writing to this upload right now."""

    http_status = 423


_hashes: dict[str, tuple[int, Any]] = {}  # upload id -> (offset covered, running sha256)
_hashes_lock = threading.Lock()


def looks_like_media(filename: str, filetype: str = "") -> str | None:
    """Return why a file is not audio/video judging by its type and name, or None."""
    kind = (filetype or "").split(";")[0].strip().lower()
    suffix = Path(filename).suffix.lower()
    if kind.startswith(("video/", "audio/")) or suffix in MEDIA_SUFFIXES:
        return None
    kind = kind or mimetypes.guess_type(filename)[0] or ""
    shown = kind or (suffix or "no extension")
    return f"{filename}: not a video or audio file ({shown})"


class UploadService:
    """Create, append to, finish, cancel and expire resumable uploads."""

    def __init__(
        self,
        session: Session,
        storage: Storage,
        staging_dir: Path,
        queue: TaskQueue | None = None,
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
        self.ingest = ingest or IngestService(session, storage, queue)

    def staging_path(self, upload_id: str) -> Path:
        """Return where an upload's bytes are staged."""
        return self.staging_dir / f"{upload_id}.part"

    # ---- lifecycle ------------------------------------------------------------------

    def create(
        self, user: User, *, length: int, filename: str, meta: Mapping[str, Any]
    ) -> UploadSession:
        """Open an upload of ``length`` bytes after validating what it will be catalogued as."""
        if length < 1:
            raise InvalidInput("Upload-Length must be a positive number of bytes")
        if length > self.max_size:
            raise TooLarge(f"the file is {length} bytes; the largest accepted is {self.max_size}")
        shown = display_filename(filename or "unnamed")
        reason = looks_like_media(shown, str(meta.get("filetype") or ""))
        if reason:
            raise InvalidMedia(reason)
        cleaned = self.clean_target(meta)
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
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        self.staging_path(upload.id).touch(exist_ok=False)
        self.session.add(upload)
        self.session.commit()
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

    def get(self, upload_id: str, user: User) -> UploadSession:
        """Return the caller's upload; someone else's is reported as missing."""
        upload = self.session.get(UploadSession, upload_id) if len(upload_id) == 32 else None
        if upload is None or (upload.user_id != user.id and not user.has_role(Role.ADMIN)):
            raise NotFound("no such upload (it expired, was cancelled, or is not yours)")
        if upload.state is UploadState.EXPIRED or upload.state is UploadState.CANCELLED:
            raise NotFound(f"this upload was {upload.state.value}; start it again")
        return upload

    def append(
        self, upload_id: str, user: User, offset: int, stream: BinaryIO, size: int | None
    ) -> UploadSession:
        """Append the request body at ``offset``; ingest the file once complete."""
        upload = self.get(upload_id, user)
        if upload.state is not UploadState.OPEN:
            raise Conflict(f"this upload is already {upload.state.value}")
        if offset != upload.offset:
            raise Conflict(
                f"Upload-Offset {offset} does not match the {upload.offset} bytes received so far"
            )
        if size is not None and offset + size > upload.length:
            raise InvalidInput(
                f"{size} more bytes at offset {offset} would exceed Upload-Length {upload.length}"
            )
        path = self.staging_path(upload.id)
        self.session.commit()  # no transaction (nor SQLite write lock) across the transfer
        with _locked(path) as fh:
            received = self._receive(upload, fh, stream)
        upload.offset += received
        upload.updated_at = utcnow()
        upload.expires_at = upload.updated_at + self.expiry
        self.session.commit()
        if upload.offset == upload.length:
            self._finish(upload, user)
        return upload

    def _receive(self, upload: UploadSession, fh: BinaryIO, stream: BinaryIO) -> int:
        """Copy the body into the staging file; return the bytes kept (even if cut off)."""
        fh.truncate(upload.offset)
        fh.seek(upload.offset)
        digest = self._hash_at(upload.id, upload.offset, fh)
        room = upload.length - upload.offset
        received = 0
        # Hash chunk n on a helper thread while chunk n+1 is read and written (hashlib
        # and file/socket I/O release the GIL), so hashing costs no extra wall time.
        pending: Future[None] | None = None
        with ThreadPoolExecutor(1, thread_name_prefix="upload-sha256") as pool:
            try:
                while True:
                    chunk = stream.read(min(CHUNK, room - received + 1))
                    if not chunk:
                        break
                    if received + len(chunk) > room:
                        raise InvalidInput(f"the body runs past Upload-Length {upload.length}")
                    fh.write(chunk)
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(digest.update, chunk)
                    received += len(chunk)
            except InvalidInput:
                if pending is not None:
                    pending.result()
                fh.truncate(upload.offset)
                with _hashes_lock:
                    _hashes.pop(upload.id, None)
                raise
            except Exception as exc:  # the client went away mid-chunk: keep what arrived
                log.info("upload %s cut off after %d bytes: %s", upload.id, received, exc)
            if pending is not None:
                pending.result()
        fh.flush()
        os.fsync(fh.fileno())
        with _hashes_lock:
            _hashes[upload.id] = (upload.offset + received, digest)
        return received

    def _hash_at(self, upload_id: str, offset: int, fh: BinaryIO) -> Any:
        with _hashes_lock:
            cached = _hashes.pop(upload_id, None)
        if cached is not None and cached[0] == offset:
            return cached[1]
        digest = hashlib.sha256()  # no hash for this offset here: re-read the staged prefix
        fh.seek(0)
        left = offset
        while left:
            chunk = fh.read(min(CHUNK * 8, left))
            if not chunk:
                raise Conflict("the staged upload is shorter than its recorded offset")
            digest.update(chunk)
            left -= len(chunk)
        return digest

    def _finish(self, upload: UploadSession, user: User) -> None:
        with _hashes_lock:
            cached = _hashes.pop(upload.id, None)
        path = self.staging_path(upload.id)
        if cached is None or cached[0] != upload.length:
            with path.open("rb") as fh:
                cached = (upload.length, self._hash_at(upload.id, upload.length, fh))
        upload.sha256 = cached[1].hexdigest()
        meta = dict(upload.meta)
        try:
            result = self.ingest.ingest_stored(
                path,
                sha256=upload.sha256,
                programme=meta["programme"],
                title=meta["title"],
                source=meta.get("source") or "self",
                uploader=user,
                filename=upload.filename,
            )
        except MamError as exc:
            self.session.rollback()
            upload.state = UploadState.FAILED
            upload.error = exc.message
            self.session.commit()
            path.unlink(missing_ok=True)
            raise
        upload.state = UploadState.DONE
        upload.version_id = result.version.id
        extra = {k: v for k, v in meta.items() if k in metadata.FIELDS}
        if extra:
            episode = result.version.episode
            if not result.new_episode:
                extra.pop("source", None)  # a new cut does not change where the film came from
            metadata.apply_metadata(
                self.session, episode, metadata.clean_metadata(self.session, extra), user
            )
        self.session.commit()

    def cancel(self, upload_id: str, user: User) -> None:
        """Terminate an upload and delete its staged bytes."""
        upload = self.get(upload_id, user)
        if upload.state is UploadState.OPEN:
            upload.state = UploadState.CANCELLED
        self.session.commit()
        self._discard(upload.id)

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
        for upload in stale:
            upload.state = UploadState.EXPIRED
        self.session.commit()
        for upload in stale:
            self._discard(upload.id)
        return len(stale)

    def _discard(self, upload_id: str) -> None:
        with _hashes_lock:
            _hashes.pop(upload_id, None)
        self.staging_path(upload_id).unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[BinaryIO]:
    """Open the staging file for update under an exclusive, non-blocking lock."""
    try:
        fh = path.open("r+b")
    except FileNotFoundError:
        raise NotFound("the staged bytes of this upload are gone; start it again") from None
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy("another request is writing to this upload; retry shortly") from None
        try:
            yield fh
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
