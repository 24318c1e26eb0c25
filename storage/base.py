"""Storage abstraction: key rules, errors and the backend base class.

Keys are ``/``-separated relative paths such as ``assets/42/master.mp4``.
Prefixes (for :meth:`Storage.list` and :meth:`Storage.delete_prefix`) are
plain string prefixes, exactly like S3: ``"a/b"`` matches ``a/b/c`` and
``a/bc``.

Backends implement the protected ``_hook`` methods; the public methods
validate every key and argument first, so a backend never sees a hostile key.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import shutil
import tempfile
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_KEY_BYTES",
    "WRITE_CHUNK_SIZE",
    "InvalidKey",
    "ObjectInfo",
    "ObjectNotFound",
    "Storage",
    "StorageError",
    "UploadedPart",
    "content_disposition",
    "copy_stream",
    "validate_key",
    "validate_prefix",
]

MAX_KEY_BYTES = 1024
DEFAULT_CHUNK_SIZE = 1 << 20
# Local writes copy in bigger pieces: fewer syscalls and thread hand-offs per GB.
WRITE_CHUNK_SIZE = 8 << 20
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600  # SigV4 limit


class StorageError(Exception):
    """Base class for every storage failure."""


class ObjectNotFound(StorageError, KeyError):
    """The requested object does not exist."""

    def __init__(self, key: str) -> None:
        """Record the missing key."""
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        """Name the missing key (KeyError would only repr it)."""
        return f"object not found: {self.key!r}"


class InvalidKey(StorageError, ValueError):
    """A key or prefix breaks the key rules."""


@dataclass(frozen=True)
class ObjectInfo:
    """A listed object: its key and size in bytes."""

    key: str
    size: int


@dataclass(frozen=True)
class UploadedPart:
    """One part of a multipart upload: its number (1-based), ETag and size in bytes."""

    number: int
    etag: str
    size: int


def validate_key(key: str) -> str:
    """Return ``key`` unchanged, or raise InvalidKey if it breaks the key rules."""
    if not isinstance(key, str):
        raise InvalidKey(f"key must be a str, not {type(key).__name__}")
    if not key:
        raise InvalidKey("key must not be empty")
    if key.startswith("/"):
        raise InvalidKey(f"key must be relative (no leading '/'): {key!r}")
    if "\\" in key:
        raise InvalidKey(f"key must not contain a backslash: {key!r}")
    if "\x00" in key:
        raise InvalidKey(f"key must not contain NUL: {key!r}")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidKey(f"key is not valid UTF-8 text: {key!r}") from exc
    if len(encoded) > MAX_KEY_BYTES:
        raise InvalidKey(f"key is longer than {MAX_KEY_BYTES} bytes: {key[:60]!r}...")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey(f"key has an empty, '.' or '..' segment: {key!r}")
    return key


def validate_prefix(prefix: str, *, allow_empty: bool = True) -> str:
    """Return ``prefix`` unchanged if it is "" (when allowed) or a key, optionally ending in '/'."""
    if not isinstance(prefix, str):
        raise InvalidKey(f"prefix must be a str, not {type(prefix).__name__}")
    if prefix == "":
        if allow_empty:
            return prefix
        raise InvalidKey("prefix must not be empty")
    validate_key(prefix.removesuffix("/"))
    return prefix


def _check_range(start: int, end: int | None, chunk_size: int) -> None:
    """Raise ValueError for a malformed byte range or chunk size."""
    if start < 0:
        raise ValueError(f"start must be >= 0, got {start}")
    if end is not None and end < start:
        raise ValueError(f"end ({end}) must be >= start ({start})")
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be > 0, got {chunk_size}")


def copy_stream(src: BinaryIO, dst: BinaryIO, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """Copy ``src`` to ``dst`` in chunks of at most ``chunk_size``; return bytes copied."""
    total = 0
    while True:
        chunk = src.read(chunk_size)
        if not chunk:
            return total
        dst.write(chunk)
        total += len(chunk)


def _ascii_fallback(filename: str) -> str:
    """Return a quoted-string-safe ASCII approximation of ``filename``."""
    decomposed = unicodedata.normalize("NFKD", filename)
    chars = [
        c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else "_"
        for c in decomposed
        if not unicodedata.combining(c)
    ]
    return "".join(chars) or "download"


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """Build a Content-Disposition value, adding RFC 5987 ``filename*`` for non-ASCII names."""
    cleaned = "".join(c for c in filename if c.isprintable()).replace("/", "_").replace("\\", "_")
    cleaned = cleaned or "download"
    fallback = _ascii_fallback(cleaned)
    if cleaned == fallback:
        return f'{disposition}; filename="{fallback}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(cleaned, safe='')}"


class Storage(ABC):
    """An object store addressed by validated ``/``-separated keys."""

    name: str

    # ---- writing -----------------------------------------------------------------

    def put(self, key: str, fileobj: BinaryIO, *, content_type: str | None = None) -> int:
        """Store the rest of ``fileobj`` under ``key``, streaming it; return bytes written."""
        return self._put(validate_key(key), fileobj, content_type)

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> int:
        """Store ``data`` under ``key``; return bytes written."""
        validate_key(key)
        return self._put(key, io.BytesIO(data), content_type)

    def put_file(
        self, key: str, path: str | os.PathLike[str], *, content_type: str | None = None
    ) -> int:
        """Store the local file at ``path`` under ``key``; return bytes written."""
        validate_key(key)
        return self._put_file(key, Path(path), content_type)

    def put_file_sha256(
        self, key: str, path: str | os.PathLike[str], *, content_type: str | None = None
    ) -> tuple[int, str]:
        """Store the local file at ``path`` under ``key``; return (bytes, SHA-256) of one pass."""
        validate_key(key)
        return self._put_file_sha256(key, Path(path), content_type)

    # ---- multipart uploads (object stores) ------------------------------------------
    #
    # A big object can be written as numbered parts sent one at a time, possibly by
    # different processes, then assembled with ``complete_multipart``. Backends without
    # it leave ``multipart_min_part`` as None (local storage appends and renames instead).

    multipart_min_part: int | None = None  # smallest part but the last; None: unsupported
    multipart_max_parts = 10_000

    def start_multipart(self, key: str, *, content_type: str | None = None) -> str:
        """Begin a multipart upload to ``key``; return its id."""
        return self._start_multipart(validate_key(key), content_type)

    def upload_part(
        self, key: str, upload_id: str, number: int, fileobj: BinaryIO, size: int
    ) -> UploadedPart:
        """Send ``size`` bytes of the seekable ``fileobj`` as part ``number`` (1-based)."""
        validate_key(key)
        if not 1 <= number <= self.multipart_max_parts:
            raise ValueError(f"part number must be in 1..{self.multipart_max_parts}")
        if size < 1:
            raise ValueError("a part holds at least one byte")
        return self._upload_part(key, upload_id, number, fileobj, size)

    def complete_multipart(self, key: str, upload_id: str, parts: list[UploadedPart]) -> None:
        """Assemble ``parts`` (in number order) into the object ``key``."""
        validate_key(key)
        if not parts:
            raise ValueError("a multipart upload needs at least one part")
        self._complete_multipart(key, upload_id, sorted(parts, key=lambda p: p.number))

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Abandon a multipart upload and free its parts; an unknown id is not an error."""
        self._abort_multipart(validate_key(key), upload_id)

    def _start_multipart(self, key: str, content_type: str | None) -> str:
        raise StorageError(f"the {self.name} backend has no multipart uploads")

    def _upload_part(
        self, key: str, upload_id: str, number: int, fileobj: BinaryIO, size: int
    ) -> UploadedPart:
        raise StorageError(f"the {self.name} backend has no multipart uploads")

    def _complete_multipart(self, key: str, upload_id: str, parts: list[UploadedPart]) -> None:
        raise StorageError(f"the {self.name} backend has no multipart uploads")

    def _abort_multipart(self, key: str, upload_id: str) -> None:
        raise StorageError(f"the {self.name} backend has no multipart uploads")

    # ---- reading -----------------------------------------------------------------

    def open(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """Open ``key`` for streamed binary reading; ObjectNotFound if missing."""
        return self._open(validate_key(key))

    def iter_range(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 1 << 20
    ) -> Iterator[bytes]:
        """Yield bytes ``start..end`` (inclusive, clipped to the size) of ``key`` in chunks.

        Arguments are checked immediately; the object is read (and ObjectNotFound
        raised) once iteration starts. A ``start`` at or past the end yields nothing.
        """
        validate_key(key)
        _check_range(start, end, chunk_size)
        return self._iter_range(key, start, end, chunk_size)

    def download_to(self, key: str, path: str | os.PathLike[str]) -> None:
        """Copy ``key`` to the local file ``path`` (parents created, replaced atomically)."""
        validate_key(key)
        dest = Path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._download_to(key, dest)

    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """Give a local file holding ``key`` for the ``with`` block; treat it as read-only."""
        return self._local_copy(validate_key(key))

    def local_path(self, key: str) -> Path | None:
        """Return the absolute file path of ``key`` if the backend is on local disk, else None."""
        return self._local_path(validate_key(key))

    def presigned_url(
        self,
        key: str,
        *,
        expires: int = 3600,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """Return a time-limited direct GET URL for ``key``, or None if the backend has none."""
        validate_key(key)
        if not 1 <= expires <= MAX_PRESIGN_EXPIRES:
            raise ValueError(f"expires must be in 1..{MAX_PRESIGN_EXPIRES} seconds, got {expires}")
        return self._presigned_url(key, expires, filename, content_type)

    # ---- metadata and housekeeping -----------------------------------------------

    def delete(self, key: str) -> None:
        """Delete ``key``; a missing object is not an error."""
        self._delete(validate_key(key))

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with ``prefix`` (never "") and return the count."""
        return self._delete_prefix(validate_prefix(prefix, allow_empty=False))

    def exists(self, key: str) -> bool:
        """Return whether an object is stored under ``key``."""
        return self._exists(validate_key(key))

    def size(self, key: str) -> int:
        """Return the size of ``key`` in bytes; ObjectNotFound if missing."""
        return self._size(validate_key(key))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield every object under ``prefix`` (recursively), sorted by key."""
        return self._list(validate_prefix(prefix))

    def move(self, src: str, dst: str) -> None:
        """Move ``src`` to ``dst``, replacing ``dst``; ObjectNotFound if ``src`` is missing."""
        validate_key(src)
        validate_key(dst)
        if src == dst:
            if not self._exists(src):
                raise ObjectNotFound(src)
            return
        self._move(src, dst)

    # ---- backend hooks (keys already validated) ----------------------------------

    @abstractmethod
    def _put(self, key: str, fileobj: BinaryIO, content_type: str | None) -> int:
        """Stream ``fileobj`` into ``key``."""

    def _put_file_sha256(self, key: str, path: Path, content_type: str | None) -> tuple[int, str]:
        """Stream the file through a hashing reader into ``_put`` (one read of the file)."""
        from storage.hashing import HashingReader  # noqa: PLC0415 - avoids an import cycle

        with path.open("rb") as raw, HashingReader(raw) as reader:
            size = self._put(key, reader, content_type)  # type: ignore[arg-type]
            return size, reader.hexdigest()

    def _put_file(self, key: str, path: Path, content_type: str | None) -> int:
        """Stream the local file ``path`` into ``key``."""
        with path.open("rb") as fh:
            return self._put(key, fh, content_type)

    @abstractmethod
    def _open(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """Open ``key`` for reading."""

    @abstractmethod
    def _iter_range(
        self, key: str, start: int, end: int | None, chunk_size: int
    ) -> Iterator[bytes]:
        """Yield the inclusive byte range of ``key``."""

    def _download_to(self, key: str, dest: Path) -> None:
        """Copy ``key`` into ``dest`` through a temporary sibling file."""
        tmp = dest.with_name(f".{dest.name}.part-{secrets.token_hex(6)}")
        try:
            with self._open(key) as src, tmp.open("wb") as out:
                shutil.copyfileobj(src, out, DEFAULT_CHUNK_SIZE)
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _local_copy(self, key: str) -> Iterator[Path]:
        """Download ``key`` into a private temporary directory removed on exit."""
        with tempfile.TemporaryDirectory(prefix="mam-storage-") as tmpdir:
            dest = Path(tmpdir) / _safe_basename(key)
            self._download_to(key, dest)
            yield dest

    def _local_path(self, key: str) -> Path | None:
        """Return None: objects are not plain local files by default."""
        return None

    def _presigned_url(
        self, key: str, expires: int, filename: str | None, content_type: str | None
    ) -> str | None:
        """Return None: no presigned URLs by default."""
        return None

    @abstractmethod
    def _delete(self, key: str) -> None:
        """Delete ``key`` if present."""

    @abstractmethod
    def _delete_prefix(self, prefix: str) -> int:
        """Delete all objects under ``prefix``."""

    @abstractmethod
    def _exists(self, key: str) -> bool:
        """Report whether ``key`` exists."""

    @abstractmethod
    def _size(self, key: str) -> int:
        """Return the size of ``key``."""

    @abstractmethod
    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Yield objects under ``prefix`` sorted by key."""

    @abstractmethod
    def _move(self, src: str, dst: str) -> None:
        """Move ``src`` over ``dst`` (they differ)."""


_UNSAFE_FILENAME = re.compile(r"[^\w.\- ]")


def _safe_basename(key: str) -> str:
    """Return a filesystem-safe file name derived from the last key segment (keeps the suffix)."""
    name = key.rsplit("/", 1)[-1]
    if len(name.encode("utf-8")) > 200:
        suffix = Path(name).suffix[:20]
        name = name[:50] + suffix
    cleaned = _UNSAFE_FILENAME.sub("_", name).lstrip(".")
    return cleaned or "object"
