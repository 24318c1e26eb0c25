"""Hash a stream while it is being copied, so a file is read once."""

from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import BinaryIO


class HashingReader:
    """A read-only file wrapper that feeds every byte read through SHA-256.

    Hashing of a chunk runs on a helper thread while the caller writes that chunk and
    reads the next one (hashlib and file I/O both release the GIL), so copy and hash
    overlap instead of adding up. Use it as a context manager.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="sha256")
        self._pending: Future[None] | None = None
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        """Read like ``raw.read`` and hash what was read."""
        chunk = self._raw.read(size)
        if self._pending is not None:
            self._pending.result()  # keep chunks in order
            self._pending = None
        if chunk:
            self._pending = self._pool.submit(self._hash.update, chunk)
            self.bytes_read += len(chunk)
        return chunk

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        # A rewind would hash bytes twice; tell boto3 and friends not to try.
        return False

    def hexdigest(self) -> str:
        """Return the SHA-256 of everything read so far."""
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        return self._hash.hexdigest()

    def close(self) -> None:
        """Stop the hashing thread."""
        self._pool.shutdown(wait=True)

    def __enter__(self) -> HashingReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
