"""Local-filesystem storage backend.

Objects are plain files under ``root`` at ``root/<key>``. Writes go to a
temporary sibling file named ``.<name>.tmp-<16 hex digits>`` that is fsynced
and then atomically renamed over the target with ``os.replace``; any file
whose name matches that pattern (see :func:`is_temp_name`) is never listed,
and keys whose last segment matches it are rejected as InvalidKey.

A directory and an object cannot share a key here (unlike S3): ``put("a/b")``
after ``put("a")`` raises StorageError. Empty directories are pruned after
delete and move. Symlinks are not listed and may not lead outside ``root``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from storage.base import (
    WRITE_CHUNK_SIZE,
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    copy_stream,
    validate_key,
)

__all__ = ["LocalStorage", "is_temp_name"]

_TEMP_NAME = re.compile(r"\..*\.tmp-[0-9a-f]{16}", re.DOTALL)
_MAX_NAME_IN_TEMP = 180  # bytes of the target name kept in the temp name (NAME_MAX is 255)
_FILE_MODE = 0o644  # before umask; same as a normally created file
_RETRIES = 5


def is_temp_name(name: str) -> bool:
    """Return whether a file name is an in-progress write (``.<name>.tmp-<hex>``)."""
    return _TEMP_NAME.fullmatch(name) is not None


def _temp_name(name: str) -> str:
    """Return a fresh temp file name for the target file ``name``."""
    short = name.encode("utf-8")[:_MAX_NAME_IN_TEMP].decode("utf-8", "ignore")
    return f".{short}.tmp-{secrets.token_hex(8)}"


def _fsync_dir(path: Path) -> None:
    """Flush a directory entry change to disk (best effort)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class LocalStorage(Storage):
    """Store objects as files below a root directory."""

    name = "local"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        """Use ``root`` (created if missing) as the storage root."""
        path = Path(root).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        self.root = path.resolve()

    def __repr__(self) -> str:
        """Show the root."""
        return f"LocalStorage({str(self.root)!r})"

    # ---- helpers -----------------------------------------------------------------

    def _path(self, key: str) -> Path:
        """Map a key to its file path, refusing temp names and anything escaping the root."""
        validate_key(key)
        if is_temp_name(key.rsplit("/", 1)[-1]):
            raise InvalidKey(f"key looks like an in-progress temp file: {key!r}")
        path = self.root / key
        if not path.resolve().is_relative_to(self.root):
            raise InvalidKey(f"key escapes the storage root: {key!r}")
        return path

    def _prune_dirs(self, directory: Path) -> None:
        """Remove now-empty directories from ``directory`` up to (not including) the root."""
        while directory != self.root and directory.is_relative_to(self.root):
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent

    def _make_parent(self, path: Path, key: str) -> None:
        """Create the parent directories of ``path``."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise StorageError(f"a parent of {key!r} is an object, not a directory") from exc

    def _stat_file(self, key: str) -> os.stat_result:
        """Stat the regular file behind ``key``; ObjectNotFound otherwise."""
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        if not path.is_file():
            raise ObjectNotFound(key)
        return st

    # ---- hooks -------------------------------------------------------------------

    def _put(self, key: str, fileobj: BinaryIO, content_type: str | None) -> int:
        """Write ``fileobj`` to a temp file, fsync it and rename it over the target."""
        return self._write_atomically(key, lambda out: copy_stream(fileobj, out, WRITE_CHUNK_SIZE))

    def _put_file_sha256(self, key: str, path: Path, content_type: str | None) -> tuple[int, str]:
        """Copy in the kernel (copy_file_range) and hash each piece from the page cache."""
        digest = hashlib.sha256()
        with path.open("rb") as src:
            try:
                size = self._write_atomically(key, lambda out: _copy_hashing(src, out, digest))
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                src.seek(0)  # copy_file_range unsupported here: the portable path
                return super()._put_file_sha256(key, path, content_type)
        return size, digest.hexdigest()

    def _write_atomically(self, key: str, write: Callable[[BinaryIO], int]) -> int:
        """Create a temp file beside ``key``, fill it with ``write``, fsync, rename over."""
        path = self._path(key)
        if path.is_dir():
            raise StorageError(f"cannot store {key!r}: a directory of objects has that name")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        for attempt in range(_RETRIES):
            self._make_parent(path, key)
            tmp = path.with_name(_temp_name(path.name))
            try:
                fd = os.open(tmp, flags, _FILE_MODE)
                break
            except FileNotFoundError:  # parent pruned by a concurrent delete; retry
                if attempt == _RETRIES - 1:
                    raise
        try:
            with os.fdopen(fd, "wb") as out:
                written = write(out)
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if isinstance(exc, IsADirectoryError):
                raise StorageError(f"cannot store {key!r}: it is a directory") from exc
            raise
        _fsync_dir(path.parent)
        return written

    def _open(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """Open the file behind ``key``."""
        path = self._path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ObjectNotFound(key) from exc

    def _iter_range(
        self, key: str, start: int, end: int | None, chunk_size: int
    ) -> Iterator[bytes]:
        """Yield the inclusive byte range from the file."""
        with self._open(key) as fh:
            size = os.fstat(fh.fileno()).st_size
            last = size - 1 if end is None else min(end, size - 1)
            remaining = last - start + 1
            if remaining <= 0:
                return
            fh.seek(start)
            while remaining > 0:
                chunk = fh.read(min(chunk_size, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk

    @contextlib.contextmanager
    def _local_copy(self, key: str) -> Iterator[Path]:
        """Yield the object's own file path (no copy is made)."""
        self._stat_file(key)
        yield self._path(key)

    def _local_path(self, key: str) -> Path | None:
        """Return the absolute path ``key`` is (or would be) stored at."""
        return self._path(key)

    def _delete(self, key: str) -> None:
        """Unlink the file if it is there and prune empty parents."""
        path = self._path(key)
        if path.is_dir():
            return
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return
        self._prune_dirs(path.parent)

    def _delete_prefix(self, prefix: str) -> int:
        """Delete every listed object under ``prefix``."""
        count = 0
        for info in self._list(prefix):
            path = self._path(info.key)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                count += 1
            self._prune_dirs(path.parent)
        return count

    def _exists(self, key: str) -> bool:
        """Report whether a regular file backs ``key``."""
        return self._path(key).is_file()

    def _size(self, key: str) -> int:
        """Return the file size."""
        return self._stat_file(key).st_size

    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Walk only the directories that can hold matches, then yield them sorted."""
        dir_key = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
        start = self.root / dir_key if dir_key else self.root
        if not start.resolve().is_relative_to(self.root):
            raise InvalidKey(f"prefix escapes the storage root: {prefix!r}")

        def generate() -> Iterator[ObjectInfo]:
            found = list(self._scan(start, dir_key, prefix))
            found.sort(key=lambda info: info.key)
            yield from found

        return generate()

    def _scan(self, directory: Path, dir_key: str, prefix: str) -> Iterator[ObjectInfo]:
        """Yield matching regular files below ``directory`` (unsorted)."""
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            key = dir_key + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    sub = key + "/"
                    if sub.startswith(prefix) or prefix.startswith(sub):
                        yield from self._scan(Path(entry.path), sub, prefix)
                    continue
                if not entry.is_file(follow_symlinks=False) or not key.startswith(prefix):
                    continue
                if is_temp_name(entry.name):
                    continue
                size = entry.stat(follow_symlinks=False).st_size
            except FileNotFoundError:  # vanished while scanning
                continue
            try:
                validate_key(key)
            except InvalidKey:  # a file this API could not address (e.g. made by hand)
                continue
            yield ObjectInfo(key, size)

    def _move(self, src: str, dst: str) -> None:
        """Rename ``src`` over ``dst`` atomically and prune emptied directories."""
        src_path = self._stat_path_for_move(src)
        dst_path = self._path(dst)
        if dst_path.is_dir():
            raise StorageError(f"cannot move to {dst!r}: a directory of objects has that name")
        for attempt in range(_RETRIES):
            self._make_parent(dst_path, dst)
            try:
                src_path.replace(dst_path)
                break
            except FileNotFoundError as exc:
                if not src_path.is_file():
                    raise ObjectNotFound(src) from exc
                if attempt == _RETRIES - 1:  # destination parent kept vanishing
                    raise
            except OSError as exc:
                if exc.errno in (errno.EISDIR, errno.ENOTDIR):
                    raise StorageError(f"cannot move {src!r} to {dst!r}: {exc}") from exc
                raise
        _fsync_dir(dst_path.parent)
        self._prune_dirs(src_path.parent)

    def _stat_path_for_move(self, src: str) -> Path:
        """Return the path of ``src``; ObjectNotFound unless it is a regular file."""
        self._stat_file(src)
        return self._path(src)


def _copy_hashing(src: BinaryIO, out: BinaryIO, digest: Any) -> int:
    """Copy ``src`` to ``out`` with copy_file_range, hashing each piece on a helper thread.

    Each piece is read from disk once (by the kernel copy); the hash reads it back from
    the page cache while the next piece is copied, so memory stays at two pieces.
    """
    offset = 0
    pending: Future[None] | None = None
    with ThreadPoolExecutor(1, thread_name_prefix="sha256") as pool:
        while True:
            n = os.copy_file_range(src.fileno(), out.fileno(), WRITE_CHUNK_SIZE, offset, offset)
            if n == 0:
                break
            piece = os.pread(src.fileno(), n, offset)
            if pending is not None:
                pending.result()
            pending = pool.submit(digest.update, piece)
            offset += n
        if pending is not None:
            pending.result()
    return offset
