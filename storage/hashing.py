"""Hash a stream while it is being copied, so a file is read once."""

from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, BinaryIO


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


# ---- a SHA-256 whose running state can be saved ----------------------------------------
#
# hashlib objects cannot be pickled, but a resumable upload must carry its hash across
# requests, processes and restarts. OpenSSL's low-level SHA256_CTX is a plain struct
# (h[8], Nl, Nh, data[16], num, md_len: 28 unsigned 32-bit ints, the same in 1.0 to 3.x)
# and SHA256_Update uses the same assembly (SHA-NI/AVX) as hashlib, so the context bytes
# are a compact, exact checkpoint. The saved form is tagged and checked against the
# number of bytes it claims to cover before it is trusted.

_CTX_SIZE = 112
_STATE_TAG = b"sha256-ossl-v1:"


def _load_libcrypto() -> Any:
    import ctypes  # noqa: PLC0415 - only when a resumable hash is asked for
    import ctypes.util  # noqa: PLC0415
    import ssl  # noqa: PLC0415, F401 - loads the libcrypto hashlib uses

    names = ["libcrypto.so.3", "libcrypto.so.1.1", ctypes.util.find_library("crypto")]
    for name in filter(None, names):
        try:
            lib = ctypes.CDLL(name)
            init, update, final = lib.SHA256_Init, lib.SHA256_Update, lib.SHA256_Final
        except (OSError, AttributeError):
            continue
        init.argtypes = [ctypes.c_void_p]
        update.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        final.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        return lib
    return None


_libcrypto: Any = None
_libcrypto_loaded = False


def _crypto() -> Any:
    global _libcrypto, _libcrypto_loaded  # noqa: PLW0603 - load once, lazily
    if not _libcrypto_loaded:
        _libcrypto = _load_libcrypto()
        _libcrypto_loaded = True
    return _libcrypto


_ctypes_allowed = True


def allow_ctypes_sha256(allowed: bool) -> None:
    """Allow or forbid the OpenSSL-through-ctypes hash (``MAM_RESUMABLE_SHA256_CTYPES``).

    It reads OpenSSL's SHA256_CTX layout, checked against the OpenSSL of the pinned
    Python image (requirements/README.md); forbidden, uploads re-read the staged bytes
    after an interruption instead of resuming a saved hash state.
    """
    global _ctypes_allowed  # noqa: PLW0603 - one process-wide switch, set from the settings
    _ctypes_allowed = allowed


def resumable_sha256_available() -> bool:
    """Return whether :class:`ResumableSha256` works here (allowed, libcrypto found)."""
    return _ctypes_allowed and _crypto() is not None


class ResumableSha256:
    """SHA-256 whose state can be saved with :meth:`state` and resumed with :meth:`resume`.

    ``update`` releases the GIL (a ctypes call), so it can overlap with I/O on other threads.
    """

    def __init__(self) -> None:
        import ctypes  # noqa: PLC0415

        lib = _crypto() if _ctypes_allowed else None
        if lib is None:
            raise RuntimeError("OpenSSL libcrypto is not available for a resumable SHA-256")
        self._lib = lib
        self._ctx = ctypes.create_string_buffer(_CTX_SIZE)
        self._addr = ctypes.addressof(self._ctx)
        lib.SHA256_Init(self._addr)
        self.length = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Hash ``data`` (any contiguous buffer)."""
        import ctypes  # noqa: PLC0415

        view = memoryview(data).cast("B")
        n = len(view)
        if not n:
            return
        if view.readonly:
            ptr: Any = ctypes.c_char_p(bytes(view)) if not isinstance(data, bytes) else data
            self._lib.SHA256_Update(self._addr, ptr, n)
        else:
            buf = (ctypes.c_char * n).from_buffer(view)
            self._lib.SHA256_Update(self._addr, buf, n)
        self.length += n

    def hexdigest(self) -> str:
        """Return the digest of everything hashed so far (the state is left untouched)."""
        import ctypes  # noqa: PLC0415

        copy = ctypes.create_string_buffer(self._ctx.raw, _CTX_SIZE)
        out = ctypes.create_string_buffer(32)
        self._lib.SHA256_Final(out, copy)
        return out.raw.hex()

    def state(self) -> bytes:
        """Return the saved form of the running state."""
        return _STATE_TAG + self._ctx.raw

    @classmethod
    def resume(cls, saved: bytes | None, length: int) -> ResumableSha256 | None:
        """Rebuild a hash from :meth:`state` output covering ``length`` bytes, or None."""
        import ctypes  # noqa: PLC0415

        if not saved or not saved.startswith(_STATE_TAG) or not resumable_sha256_available():
            return None
        raw = saved[len(_STATE_TAG) :]
        if len(raw) != _CTX_SIZE:
            return None
        words = memoryview(raw).cast("I")
        bits = (words[9] << 32) | words[8]  # Nh:Nl count the bits hashed
        num, md_len = words[26], words[27]
        if bits != length * 8 or num != length % 64 or md_len != 32:
            return None
        digest = cls()
        ctypes.memmove(digest._ctx, raw, _CTX_SIZE)
        digest.length = length
        return digest
