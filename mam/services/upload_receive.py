"""Move a tus PATCH body into its destination: block reads, overlapped SHA-256, sinks.

The body is read straight into two reused buffers (``readinto``: no allocation and no
extra copy per block). While block n is written by the request thread, a helper thread
hashes it (both the write and the hash release the GIL), and block n+1 is read once the
buffer it goes into has been hashed. Nothing is fsynced per block: the sink syncs once,
before the offset it reports is committed (tus only promises the acknowledged offset).
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO, Protocol

from mam.errors import InvalidInput
from mam.messages import media
from storage.hashing import ResumableSha256, resumable_sha256_available

log = logging.getLogger(__name__)

BLOCK = 4 << 20


class Digest(Protocol):
    """What the receiver needs of a hash."""

    def update(self, data: Any, /) -> None: ...

    def hexdigest(self) -> str: ...


def new_digest() -> Digest:
    """Return an empty SHA-256, resumable (savable) where OpenSSL allows."""
    return ResumableSha256() if resumable_sha256_available() else hashlib.sha256()


def saved_state(digest: Digest) -> bytes | None:
    """Return the savable state of ``digest``, or None if it cannot be saved."""
    return digest.state() if isinstance(digest, ResumableSha256) else None


def resume_digest(state: bytes | None, length: int) -> Digest | None:
    """Return the hash of the first ``length`` bytes from a saved state, or None."""
    if length == 0:
        return new_digest()
    return ResumableSha256.resume(state, length)


def hash_file_prefix(fd: int, length: int) -> Digest:
    """Hash the first ``length`` bytes of an open file (when no saved state is usable)."""
    digest = new_digest()
    pos = 0
    while pos < length:
        chunk = os.pread(fd, min(BLOCK * 4, length - pos), pos)
        if not chunk:
            raise EOFError(f"the file ends at {pos} bytes, before {length}")
        digest.update(chunk)
        pos += len(chunk)
    return digest


def pwrite_all(fd: int, view: memoryview, pos: int) -> None:
    """Write all of ``view`` at ``pos``."""
    while view:
        n = os.pwrite(fd, view, pos)
        view = view[n:]
        pos += n


def _load_sync_file_range() -> Callable[[int, int, int], None]:
    """Return a function starting the write-back of a file range, or a no-op."""
    try:
        import ctypes  # noqa: PLC0415
        import ctypes.util  # noqa: PLC0415

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        call = libc.sync_file_range
        call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    except (OSError, AttributeError):  # not Linux
        return lambda fd, offset, length: None
    write = 2  # SYNC_FILE_RANGE_WRITE: start writing the dirty pages, do not wait

    def start_writeback(fd: int, offset: int, length: int) -> None:
        call(fd, offset, length, write)  # advisory: an error here only loses the head start

    return start_writeback


# Start writing each received block to disk at once, so the fdatasync that makes a PATCH's
# offset durable finds little left to do (the kernel would otherwise sit on gigabytes of
# dirty pages until the sync, and the client would wait for all of them to be written).
start_writeback = _load_sync_file_range()


class Target(Protocol):
    """Where the receiver puts the body: hands out buffers, takes them back filled."""

    def window(self, want: int) -> memoryview:
        """Return a writable buffer of 1..``want`` bytes for the next bytes of the body."""

    def filled(self, block: memoryview) -> None:
        """Take the next ``len(block)`` bytes (read into the start of the last window)."""

    def hashed(self, window: memoryview) -> None:
        """Forget ``window``: its bytes have been hashed."""


class WriteTarget:
    """Read into two alternating buffers and write each block with ``write``."""

    def __init__(self, write: Callable[[memoryview], None]) -> None:
        self._buffers = [bytearray(BLOCK), bytearray(BLOCK)]
        self._turn = 0
        self._write = write

    def window(self, want: int) -> memoryview:
        self._turn ^= 1
        return memoryview(self._buffers[self._turn])[: min(want, BLOCK)]

    def filled(self, block: memoryview) -> None:
        self._write(block)

    def hashed(self, window: memoryview) -> None:
        window.release()


class MappedFileTarget:
    """Read straight into the page cache: memory-mapped windows of a file being appended.

    The socket's bytes are copied once, into the file's pages, instead of into a buffer
    and then again by ``write``; the hash reads the same pages. The caller reserves the
    blocks first (``posix_fallocate``), so a full disk is an error up front, not a SIGBUS.
    """

    def __init__(self, fd: int, pos: int) -> None:
        self.fd = fd
        self.pos = pos  # where the next window starts
        self._maps: dict[int, tuple[mmap.mmap, int]] = {}  # window id -> (map, file offset)

    def window(self, want: int) -> memoryview:
        start = self.pos - self.pos % mmap.ALLOCATIONGRANULARITY
        size = min(want, BLOCK)
        mapped = mmap.mmap(self.fd, self.pos - start + size, offset=start)
        view = memoryview(mapped)[self.pos - start :]
        self._maps[id(view)] = (mapped, self.pos)
        return view

    def filled(self, block: memoryview) -> None:
        self.pos += len(block)

    def hashed(self, window: memoryview) -> None:
        mapped, at = self._maps.pop(id(window))
        length = len(window)
        window.release()
        mapped.close()
        start_writeback(self.fd, at, length)


class Receiver:
    """Read a request body block by block, hashing each block beside the target's work."""

    def __init__(self, digest: Digest) -> None:
        self.digest = digest
        self._inflight: deque[tuple[memoryview, memoryview, Future[None]]] = deque()
        self._target: Target | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="upload-sha256")

    def close(self) -> None:
        """Finish hashing and stop the helper thread."""
        try:
            self.settle()
        finally:
            self._pool.shutdown(wait=True)

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _retire_oldest(self) -> None:
        window, block, future = self._inflight.popleft()
        try:
            future.result()
        finally:
            block.release()
            if self._target is not None:
                self._target.hashed(window)

    def settle(self) -> None:
        """Wait until every byte handed to the target has been hashed."""
        while self._inflight:
            self._retire_oldest()

    def run(self, stream: BinaryIO, size: int | None, room: int, target: Target) -> int:
        """Read the body into ``target`` block by block; return the bytes accepted.

        ``size`` is the Content-Length (None if unknown), ``room`` the bytes the upload can
        still take. A body that would pass ``room`` raises InvalidInput before any byte of
        the offending block is kept. A client that goes away mid-body is not an error:
        what arrived is kept.
        """
        self._target = target
        limit = size if size is not None else room + 1
        readinto = getattr(stream, "readinto", None)
        received = 0
        while received < limit:
            if len(self._inflight) >= 2:
                self._retire_oldest()
            window = target.window(limit - received)
            try:
                if readinto is not None:
                    n = readinto(window) or 0
                else:
                    data = stream.read(len(window))
                    n = len(data)
                    window[:n] = data
            except Exception as exc:  # noqa: BLE001 - the client went away mid-body (the servers raise their own types): keep what arrived
                log.info("upload body cut off after %d bytes: %s", received, exc)
                n = 0
            if n == 0 or received + n > room:
                target.hashed(window)
                if n:
                    raise InvalidInput(media.UPLOAD_OVERRUN)
                break
            block = window[:n]
            self._inflight.append((window, block, self._pool.submit(self.digest.update, block)))
            target.filled(block)
            received += n
        self.settle()
        return received
