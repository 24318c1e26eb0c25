"""Hash a stream while it is being copied, so a file is read once."""

from __future__ import annotations

import hashlib
from typing import BinaryIO


class HashingReader:
    """A read-only file wrapper that feeds every byte read through SHA-256."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        """Read like ``raw.read`` and hash what was read."""
        chunk = self._raw.read(size)
        self._hash.update(chunk)
        self.bytes_read += len(chunk)
        return chunk

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        # A rewind would hash bytes twice; tell boto3 and friends not to try.
        return False

    def hexdigest(self) -> str:
        """Return the SHA-256 of everything read so far."""
        return self._hash.hexdigest()
