"""The block receiver: both targets keep exactly what arrived and hash exactly that."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from mam.errors import InvalidInput
from mam.services import upload_receive
from mam.services.upload_receive import (
    MappedFileTarget,
    Receiver,
    WriteTarget,
    new_digest,
    pwrite_all,
)


class CutStream(io.RawIOBase):
    """A body that breaks off with an error after ``cut`` bytes (the client went away)."""

    def __init__(self, data: bytes, cut: int) -> None:
        self._data, self._cut, self._pos = data, cut, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._pos >= self._cut:
            raise ConnectionResetError("client went away")
        n = min(len(buffer), self._cut - self._pos, 100_000)  # short reads, like a socket
        buffer[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upload_receive, "BLOCK", 64 * 1024)


def receive(
    path: Path, stream: object, size: int | None, room: int, mapped: bool
) -> tuple[int, str]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        base = os.fstat(fd).st_size
        pos = base

        def write(block: memoryview) -> None:
            nonlocal pos
            pwrite_all(fd, block, pos)
            pos += len(block)

        if mapped:
            assert size is not None
            os.posix_fallocate(fd, base, size)
            target: MappedFileTarget | WriteTarget = MappedFileTarget(fd, base)
        else:
            target = WriteTarget(write)
        digest = new_digest()
        with Receiver(digest) as receiver:
            received = receiver.run(stream, size, room, target)  # type: ignore[arg-type]
        os.ftruncate(fd, base + received)
        return received, digest.hexdigest()
    finally:
        os.close(fd)


@pytest.mark.parametrize("mapped", [True, False])
def test_whole_body_is_stored_and_hashed(tmp_path: Path, mapped: bool) -> None:
    data = os.urandom(1_000_003)
    path = tmp_path / "staged"
    path.write_bytes(b"")
    received, sha = receive(path, io.BytesIO(data), len(data), len(data), mapped)
    assert received == len(data) and path.read_bytes() == data
    assert sha == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("mapped", [True, False])
def test_cut_body_keeps_what_arrived(tmp_path: Path, mapped: bool) -> None:
    data = os.urandom(500_000)
    path = tmp_path / "staged"
    path.write_bytes(b"head")  # appends after what was staged before
    received, sha = receive(path, CutStream(data, 333_333), len(data), len(data), mapped)
    assert received == 333_333
    assert path.read_bytes() == b"head" + data[:333_333]
    assert sha == hashlib.sha256(data[:333_333]).hexdigest()


def test_body_of_unknown_length_past_the_room_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "staged"
    path.write_bytes(b"")
    with pytest.raises(InvalidInput, match="announced length"):
        receive(path, io.BytesIO(b"x" * 200_000), None, 150_000, mapped=False)
