"""Where an upload's bytes go while they arrive: the staging file, or multipart parts.

On local storage they are appended to one staging file per upload under
``<work_dir>/uploads``; on object storage (S3) they gather in a small spool file (the same
staging path) and every ``part_size`` bytes become one multipart part. After every body
(and every part sent) the offset and the running SHA-256 state are committed together; the
database offset is the truth, so a PATCH first truncates the file to what it holds. An
exclusive ``flock`` on the staging file serialises concurrent PATCHes of one upload.
:class:`mam.services.uploads.UploadService` is the lifecycle around this.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from mam.errors import Conflict, MamError, NotFound
from mam.messages import media
from mam.models import utcnow
from mam.models.catalogue import UploadSession
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
from mam.uow import checkpoint
from storage import Storage
from storage.base import UploadedPart

PART_SIZE = 16 << 20  # multipart part size on object storage (the spool's size)
LOCK_WAIT = 3.0  # seconds a PATCH waits for the previous one on the same upload to finish


class NoSpace(MamError):
    """The staging disk cannot hold the bytes announced."""

    http_status = 507


class Busy(MamError):
    """Another request is writing to this upload right now."""

    http_status = 423


class UploadBytes:
    """Receiving an upload's bytes (the part of :class:`UploadService` that touches them)."""

    session: Session
    storage: Storage
    staging_dir: Path
    expiry: timedelta

    def staging_path(self, upload_id: str) -> Path:
        """Return where an upload's bytes are staged."""
        return self.staging_dir / f"{upload_id}.part"

    def object_key(self, upload_id: str) -> str:
        """Return the storage key a multipart upload assembles the file under."""
        return f"incoming/uploads/{upload_id}"

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
