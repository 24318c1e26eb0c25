"""LocalStorage-only behaviour: root confinement, atomic writes, temp files, directories."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from storage import InvalidKey, ObjectInfo, StorageError, create_storage
from storage.local import LocalStorage, is_temp_name
from storage.testing import GuardedStream, SourceInterrupted

MiB = 1 << 20


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    """Return a LocalStorage rooted in tmp_path/root."""
    return LocalStorage(tmp_path / "root")


def _all_files(root: Path) -> list[str]:
    """List every file below root (including hidden temp files), relative and sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())


def test_factory_and_root_creation(tmp_path: Path) -> None:
    storage = create_storage("local", root=str(tmp_path / "deep" / "new" / "root"))
    assert isinstance(storage, LocalStorage)
    assert storage.name == "local"
    assert (tmp_path / "deep" / "new" / "root").is_dir()
    assert storage.presigned_url("x") is None


def test_local_path(local: LocalStorage) -> None:
    path = local.local_path("a/b/c.mp4")
    assert path == local.root / "a" / "b" / "c.mp4"
    assert path is not None
    assert path.is_absolute()
    assert not path.exists()  # returned even when missing
    local.put_bytes("a/b/c.mp4", b"data")
    assert path.read_bytes() == b"data"
    with local.local_copy("a/b/c.mp4") as copy:
        assert copy == path  # no copy for the local backend


def test_interrupted_put_leaves_no_files(local: LocalStorage) -> None:
    source = GuardedStream(b"x" * (3 * MiB), fail_at=2 * MiB)
    with pytest.raises(SourceInterrupted):
        local.put("dir/video.mp4", source.as_binary())
    assert _all_files(local.root) == []
    assert list(local.list()) == []


def test_put_is_atomic_and_temp_file_is_hidden(local: LocalStorage) -> None:
    seen: dict[str, object] = {}

    class Spy(io.RawIOBase):
        """Inspect the store while the upload is in progress."""

        calls = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: object) -> int:
            view = memoryview(cast(bytearray, buffer))
            Spy.calls += 1
            if Spy.calls == 2:
                seen["target_exists"] = (local.root / "v" / "f.mp4").exists()
                seen["on_disk"] = _all_files(local.root)
                seen["listed"] = list(local.list())
            if Spy.calls > 3:
                return 0
            view[:3] = b"abc"
            return 3

    assert local.put("v/f.mp4", cast(BinaryIO, Spy())) == 9
    assert seen["target_exists"] is False
    on_disk = cast(list[str], seen["on_disk"])
    assert len(on_disk) == 1
    assert is_temp_name(Path(on_disk[0]).name)
    assert Path(on_disk[0]).name.startswith(".f.mp4.tmp-")
    assert seen["listed"] == []
    assert _all_files(local.root) == ["v/f.mp4"]


def test_stray_temp_files_are_not_listed(local: LocalStorage) -> None:
    local.put_bytes("d/real.mp4", b"1")
    (local.root / "d" / ".real.mp4.tmp-0123456789abcdef").write_bytes(b"partial")
    (local.root / "d" / ".hidden-but-real").write_bytes(b"22")
    assert list(local.list()) == [ObjectInfo("d/.hidden-but-real", 2), ObjectInfo("d/real.mp4", 1)]
    with pytest.raises(InvalidKey):
        local.put_bytes("d/.x.tmp-0123456789abcdef", b"no")


def test_is_temp_name() -> None:
    assert is_temp_name(".a.mp4.tmp-0123456789abcdef")
    assert is_temp_name(". .tmp-ffffffffffffffff")
    assert not is_temp_name("a.mp4.tmp-0123456789abcdef")
    assert not is_temp_name(".a.mp4.tmp-0123")
    assert not is_temp_name(".a.mp4")


def test_long_key_segment_fits_temp_name(local: LocalStorage) -> None:
    name = "长" * 80 + ".mp4"  # 244 bytes: near NAME_MAX, temp name must stay below it
    assert local.put_bytes(f"x/{name}", b"ok") == 2
    assert [info.key for info in local.list()] == [f"x/{name}"]


def test_symlink_escape_is_rejected(local: LocalStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    (local.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidKey, match="escapes"):
        local.open("link/secret")
    with pytest.raises(InvalidKey):
        local.put_bytes("link/new", b"x")
    with pytest.raises(InvalidKey):
        local.delete("link/secret")
    with pytest.raises(InvalidKey):
        list(local.list("link/"))
    assert list(local.list()) == []  # symlinks are not followed when listing
    assert (outside / "secret").read_bytes() == b"secret"
    assert not (outside / "new").exists()


def test_dotdot_cannot_escape(local: LocalStorage, tmp_path: Path) -> None:
    for key in ("../escape", "a/../../escape"):
        with pytest.raises(InvalidKey):
            local.put_bytes(key, b"x")
    assert not (tmp_path / "escape").exists()


def test_file_permissions_follow_umask(local: LocalStorage) -> None:
    old = os.umask(0o022)
    try:
        local.put_bytes("perm.bin", b"x")
    finally:
        os.umask(old)
    assert (local.root / "perm.bin").stat().st_mode & 0o777 == 0o644


def test_empty_directories_are_pruned(local: LocalStorage) -> None:
    local.put_bytes("a/b/c/one", b"1")
    local.put_bytes("a/keep", b"2")
    local.delete("a/b/c/one")
    assert not (local.root / "a" / "b").exists()
    assert (local.root / "a").is_dir()
    local.move("a/keep", "z/y/keep")
    assert sorted(p.name for p in local.root.iterdir()) == ["z"]
    assert local.delete_prefix("z/") == 1
    assert list(local.root.iterdir()) == []
    assert local.root.is_dir()


def test_object_and_directory_conflict(local: LocalStorage) -> None:
    local.put_bytes("a", b"file")
    with pytest.raises(StorageError):
        local.put_bytes("a/b", b"nested")
    local.put_bytes("d/e", b"nested")
    with pytest.raises(StorageError):
        local.put_bytes("d", b"file")
    with pytest.raises(StorageError):
        local.move("a", "d")
    assert local.exists("a")
    assert _all_files(local.root) == ["a", "d/e"]


def test_move_is_a_rename(local: LocalStorage) -> None:
    local.put_bytes("in/x", b"payload")
    inode = (local.root / "in" / "x").stat().st_ino
    local.move("in/x", "out/x")
    assert (local.root / "out" / "x").stat().st_ino == inode
