"""One behavioural suite that every storage backend must pass (local and S3 via moto)."""

from __future__ import annotations

import hashlib
import io
import os
import urllib.request
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from storage import InvalidKey, ObjectInfo, ObjectNotFound, Storage, StorageError
from storage.testing import GuardedStream, SourceInterrupted

MiB = 1 << 20
BIG = 12 * MiB + 123  # > multipart threshold and not a multiple of the part size
UNICODE_KEY = "课程/第一章 引言/视频 01（高清）.mp4"


def _read(storage: Storage, key: str) -> bytes:
    """Read a whole object through open()."""
    with storage.open(key) as fh:
        return fh.read()


def _fetch(url: str) -> tuple[bytes, Message]:
    """GET a URL directly (no proxy) and return body and headers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return response.read(), response.headers  # case-insensitive lookup


@pytest.fixture(scope="module")
def big_data() -> bytes:
    """Return ~12 MiB of random bytes."""
    return os.urandom(BIG)


# ---- writing ---------------------------------------------------------------------


def test_put_variants_round_trip(storage: Storage, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"from a file")
    assert storage.put_bytes("a/bytes.bin", b"some bytes") == 10
    assert storage.put("a/stream.bin", io.BytesIO(b"a stream"), content_type="text/plain") == 8
    assert storage.put_file("a/file.bin", src) == 11
    assert storage.put_file("a/file2.bin", str(src)) == 11
    assert _read(storage, "a/bytes.bin") == b"some bytes"
    assert _read(storage, "a/stream.bin") == b"a stream"
    assert _read(storage, "a/file.bin") == b"from a file"
    assert _read(storage, "a/file2.bin") == b"from a file"


def test_put_reads_from_current_position(storage: Storage) -> None:
    stream = io.BytesIO(b"HEADERpayload")
    stream.seek(6)
    assert storage.put("k", stream) == 7
    assert _read(storage, "k") == b"payload"


def test_empty_object(storage: Storage) -> None:
    assert storage.put_bytes("empty", b"") == 0
    assert storage.exists("empty")
    assert storage.size("empty") == 0
    assert _read(storage, "empty") == b""
    assert list(storage.iter_range("empty")) == []
    assert list(storage.list()) == [ObjectInfo("empty", 0)]


def test_streamed_put_never_reads_whole_source(storage: Storage, big_data: bytes) -> None:
    source = GuardedStream(big_data, max_read=8 * MiB)
    assert storage.put("media/big.mp4", source.as_binary()) == BIG
    assert 0 < source.largest_read <= 8 * MiB
    assert source.reads >= 2
    assert storage.size("media/big.mp4") == BIG
    digest = hashlib.sha256()
    with storage.open("media/big.mp4") as fh:
        while chunk := fh.read(MiB):
            digest.update(chunk)
    assert digest.digest() == hashlib.sha256(big_data).digest()


def test_overwrite_replaces_content(storage: Storage) -> None:
    storage.put_bytes("x/obj", b"first version, long")
    storage.put_bytes("x/obj", b"second")
    assert _read(storage, "x/obj") == b"second"
    assert storage.size("x/obj") == 6
    assert [info.key for info in storage.list()] == ["x/obj"]


def test_interrupted_put_leaves_nothing(storage: Storage, big_data: bytes) -> None:
    source = GuardedStream(big_data, max_read=8 * MiB, fail_at=6 * MiB)
    with pytest.raises(SourceInterrupted):
        storage.put("up/partial.mp4", source.as_binary())
    assert not storage.exists("up/partial.mp4")
    assert list(storage.list()) == []


def test_interrupted_overwrite_keeps_old_object(storage: Storage) -> None:
    storage.put_bytes("keep.bin", b"old")
    source = GuardedStream(b"x" * (2 * MiB), fail_at=MiB)
    with pytest.raises(SourceInterrupted):
        storage.put("keep.bin", source.as_binary())
    assert _read(storage, "keep.bin") == b"old"
    assert list(storage.list()) == [ObjectInfo("keep.bin", 3)]


# ---- reading ---------------------------------------------------------------------


def test_open_streams_in_pieces(storage: Storage) -> None:
    data = bytes(range(256)) * 64
    storage.put_bytes("r/data", data)
    with storage.open("r/data") as fh:
        assert fh.read(10) == data[:10]
        assert fh.read(100) == data[10:110]
        assert fh.read() == data[110:]
        assert fh.read(1) == b""


def test_open_missing_raises_object_not_found(storage: Storage) -> None:
    with pytest.raises(ObjectNotFound, match="no/such/key") as info, storage.open("no/such/key"):
        pass
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, StorageError)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, None, slice(0, None)),
        (10, 19, slice(10, 20)),
        (5, 5, slice(5, 6)),
        (1000, None, slice(1000, None)),
        (10000, 99999, slice(10000, None)),
        (0, 10239, slice(0, None)),
        (10239, None, slice(10239, None)),
        (10240, None, slice(0, 0)),
        (50000, 60000, slice(0, 0)),
    ],
)
def test_iter_range(storage: Storage, start: int, end: int | None, expected: slice) -> None:
    data = bytes(range(256)) * 40  # 10240 bytes
    storage.put_bytes("range.bin", data)
    chunks = list(storage.iter_range("range.bin", start, end, chunk_size=1000))
    assert b"".join(chunks) == data[expected]
    assert all(0 < len(chunk) <= 1000 for chunk in chunks)


def test_iter_range_arguments_checked_eagerly(storage: Storage) -> None:
    for kwargs in ({"start": -1}, {"start": 5, "end": 4}, {"chunk_size": 0}):
        with pytest.raises(ValueError, match=r"start|end|chunk_size"):
            storage.iter_range("anything", **kwargs)


def test_iter_range_missing(storage: Storage) -> None:
    with pytest.raises(ObjectNotFound):
        list(storage.iter_range("missing.bin", 0, 10))


def test_download_to(storage: Storage, tmp_path: Path) -> None:
    storage.put_bytes("d/file.bin", b"download me")
    dest = tmp_path / "out" / "nested" / "file.bin"
    storage.download_to("d/file.bin", dest)
    assert dest.read_bytes() == b"download me"
    storage.put_bytes("d/file.bin", b"v2")
    storage.download_to("d/file.bin", str(dest))
    assert dest.read_bytes() == b"v2"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["file.bin"]
    missing = tmp_path / "out" / "missing.bin"
    with pytest.raises(ObjectNotFound):
        storage.download_to("d/missing.bin", missing)
    assert not missing.exists()


def test_local_copy(storage: Storage) -> None:
    storage.put_bytes("c/clip.mp4", b"clip bytes")
    with storage.local_copy("c/clip.mp4") as path:
        assert path.is_file()
        assert path.read_bytes() == b"clip bytes"
        assert path.suffix == ".mp4"
    if storage.local_path("c/clip.mp4") is None:
        assert not path.exists()
    else:
        assert path == storage.local_path("c/clip.mp4")
        assert path.exists()
    with pytest.raises(ObjectNotFound), storage.local_copy("c/missing.mp4"):
        pass


def test_presigned_url_serves_the_object(storage: Storage) -> None:
    storage.put_bytes("p/video.mp4", b"presigned body")
    url = storage.presigned_url("p/video.mp4", expires=60)
    if url is None:  # local backend: files are served from local_path instead
        assert storage.name == "local"
        assert storage.local_path("p/video.mp4") is not None
        return
    body, _headers = _fetch(url)
    assert body == b"presigned body"


def test_presigned_url_rejects_bad_expiry(storage: Storage) -> None:
    for expires in (0, -5, 8 * 24 * 3600):
        with pytest.raises(ValueError, match="expires"):
            storage.presigned_url("p/video.mp4", expires=expires)


# ---- housekeeping ----------------------------------------------------------------


def test_delete(storage: Storage) -> None:
    storage.put_bytes("del/a", b"1")
    storage.put_bytes("del/b", b"2")
    storage.delete("del/a")
    assert not storage.exists("del/a")
    storage.delete("del/a")  # already gone: fine
    storage.delete("never/existed")
    storage.delete("del")  # a "directory" is not an object: nothing happens
    assert [info.key for info in storage.list()] == ["del/b"]


def test_delete_prefix(storage: Storage) -> None:
    for key in ("a/1", "a/2", "a/b/3", "ab/4", "b/5"):
        storage.put_bytes(key, b"x")
    assert storage.delete_prefix("a/") == 3
    assert [info.key for info in storage.list()] == ["ab/4", "b/5"]
    assert storage.delete_prefix("zzz/") == 0
    assert storage.delete_prefix("a") == 1  # plain string prefix, like S3
    assert [info.key for info in storage.list()] == ["b/5"]
    with pytest.raises(InvalidKey):
        storage.delete_prefix("")


def test_exists_and_size(storage: Storage) -> None:
    storage.put_bytes("s/obj.bin", b"12345")
    assert storage.exists("s/obj.bin")
    assert storage.size("s/obj.bin") == 5
    assert not storage.exists("s/other.bin")
    assert not storage.exists("s")  # directories/prefixes are not objects
    with pytest.raises(ObjectNotFound, match=r"s/other\.bin"):
        storage.size("s/other.bin")
    with pytest.raises(ObjectNotFound):
        storage.size("s")


def test_list_sorted_recursive_and_prefixed(storage: Storage) -> None:
    keys = [f"lib/{d}/{n:02d}.ts" for d in ("x", "y") for n in range(8)]
    keys += ["lib-z", "lib/a.txt", "lib/中文/片段.ts", "lib/x-1/a", "lib/x/sub/deep/z", "top"]
    shuffled = sorted(keys, key=lambda k: hashlib.sha256(k.encode()).digest())  # stable mix
    for i, key in enumerate(shuffled):
        storage.put_bytes(key, b"." * i)
    listed = list(storage.list())
    assert [info.key for info in listed] == sorted(keys)
    assert {info.key: info.size for info in listed} == {k: i for i, k in enumerate(shuffled)}
    assert [i.key for i in storage.list("lib/x/")] == sorted(k for k in keys if "lib/x/" in k)
    assert [i.key for i in storage.list("lib/x")] == sorted(
        k for k in keys if k.startswith("lib/x")
    )
    assert [i.key for i in storage.list("lib")] == sorted(k for k in keys if k != "top")
    assert [i.key for i in storage.list("lib/中文/")] == ["lib/中文/片段.ts"]
    assert list(storage.list("nothing/")) == []
    size = shuffled.index("lib/x/00.ts")
    assert list(storage.list("lib/x/00.ts")) == [ObjectInfo("lib/x/00.ts", size)]


def test_move(storage: Storage) -> None:
    storage.put_bytes("incoming/a.mp4", b"AAA")
    storage.move("incoming/a.mp4", "published/2024/a.mp4")
    assert not storage.exists("incoming/a.mp4")
    assert _read(storage, "published/2024/a.mp4") == b"AAA"
    storage.put_bytes("incoming/b.mp4", b"BBBB")
    storage.move("incoming/b.mp4", "published/2024/a.mp4")  # overwrite
    assert _read(storage, "published/2024/a.mp4") == b"BBBB"
    assert [info.key for info in storage.list()] == ["published/2024/a.mp4"]
    storage.move("published/2024/a.mp4", "published/2024/a.mp4")  # no-op, not a delete
    assert _read(storage, "published/2024/a.mp4") == b"BBBB"
    with pytest.raises(ObjectNotFound, match="incoming/gone"):
        storage.move("incoming/gone", "published/gone")
    with pytest.raises(ObjectNotFound):
        storage.move("incoming/gone", "incoming/gone")
    assert not storage.exists("published/gone")


def test_unicode_and_space_keys(storage: Storage, tmp_path: Path) -> None:
    assert storage.put_bytes(UNICODE_KEY, "内容".encode()) == 6
    assert storage.exists(UNICODE_KEY)
    assert storage.size(UNICODE_KEY) == 6
    assert [info.key for info in storage.list("课程/")] == [UNICODE_KEY]
    assert b"".join(storage.iter_range(UNICODE_KEY, 3)) == "容".encode()
    storage.download_to(UNICODE_KEY, tmp_path / "下载.mp4")
    assert (tmp_path / "下载.mp4").read_text("utf-8") == "内容"
    url = storage.presigned_url(UNICODE_KEY)
    if url is not None:
        assert _fetch(url)[0] == "内容".encode()
    storage.move(UNICODE_KEY, "发布/视频 01.mp4")
    assert _read(storage, "发布/视频 01.mp4") == "内容".encode()
    assert storage.delete_prefix("发布/") == 1


# ---- hostile keys ----------------------------------------------------------------

HOSTILE_KEYS = ["../x", "a/../../x", "/abs", "a//b", "a/./b", "a\\b", "", "x\x00y", "a/", ".", ".."]

# "a/" is a fine prefix, and list("") means "everything"; delete_prefix("") is refused.
PREFIX_METHODS = {"list", "delete_prefix"}
VALID_PREFIXES = {"list": {"", "a/"}, "delete_prefix": {"a/"}}

CALLS: dict[str, Callable[[Storage, str, Path], Any]] = {
    "put": lambda s, k, _p: s.put(k, io.BytesIO(b"x")),
    "put_bytes": lambda s, k, _p: s.put_bytes(k, b"x"),
    "put_file": lambda s, k, p: s.put_file(k, p),
    "open": lambda s, k, _p: s.open(k),
    "iter_range": lambda s, k, _p: s.iter_range(k),
    "download_to": lambda s, k, p: s.download_to(k, p.with_name("dl")),
    "local_copy": lambda s, k, _p: s.local_copy(k),
    "local_path": lambda s, k, _p: s.local_path(k),
    "presigned_url": lambda s, k, _p: s.presigned_url(k),
    "delete": lambda s, k, _p: s.delete(k),
    "delete_prefix": lambda s, k, _p: s.delete_prefix(k),
    "exists": lambda s, k, _p: s.exists(k),
    "size": lambda s, k, _p: s.size(k),
    "list": lambda s, k, _p: s.list(k),
    "move_src": lambda s, k, _p: s.move(k, "ok/dst"),
    "move_dst": lambda s, k, _p: s.move("ok/src", k),
}


@pytest.mark.parametrize("method", sorted(CALLS))
def test_hostile_keys_rejected_by_every_method(
    storage: Storage, tmp_path: Path, method: str
) -> None:
    storage.put_bytes("ok/src", b"safe")
    src = tmp_path / "upload.bin"
    src.write_bytes(b"x")
    for key in HOSTILE_KEYS:
        if method in PREFIX_METHODS and key in VALID_PREFIXES[method]:
            continue
        with pytest.raises(InvalidKey):
            CALLS[method](storage, key, src)
    assert list(storage.list()) == [ObjectInfo("ok/src", 4)]
    assert not (tmp_path / "dl").exists()
    assert {p.name for p in tmp_path.iterdir()} <= {"store", "upload.bin"}  # nothing escaped


def test_put_file_sha256_stores_and_hashes_in_one_pass(storage: Storage, tmp_path: Path) -> None:
    """Bigger than a copy piece (8 MiB) and not a multiple of it; empty works too."""
    data = os.urandom(9 << 20) + b"tail"
    src = tmp_path / "film 乡村.bin"
    src.write_bytes(data)
    size, sha = storage.put_file_sha256("originals/x", src)
    assert (size, sha) == (len(data), hashlib.sha256(data).hexdigest())
    with storage.open("originals/x") as fh:
        assert fh.read() == data
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert storage.put_file_sha256("originals/e", empty) == (0, hashlib.sha256().hexdigest())
    with pytest.raises(InvalidKey):
        storage.put_file_sha256("../x", src)
    assert sorted(o.key for o in storage.list("originals/")) == ["originals/e", "originals/x"]
