"""Two writers on one upload: a resume right after a cut PATCH waits; a real clash is 423."""

from __future__ import annotations

import fcntl
import threading
import time
from pathlib import Path

import pytest

from mam.services import upload_bytes as uploads


def _hold_lock(path: Path, seconds: float, ready: threading.Event) -> None:
    with path.open("r+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        ready.set()
        time.sleep(seconds)
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def test_a_patch_waits_for_the_one_that_is_finishing(tmp_path: Path) -> None:
    staged = tmp_path / "upload.part"
    staged.write_bytes(b"x" * 10)
    ready = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(staged, 0.4, ready))
    holder.start()
    ready.wait()
    started = time.monotonic()
    with uploads._locked(staged) as fh:
        assert fh.read() == b"x" * 10
    assert time.monotonic() - started >= 0.3
    holder.join()


def test_a_writer_that_keeps_the_lock_gets_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "LOCK_WAIT", 0.2)
    staged = tmp_path / "upload.part"
    staged.write_bytes(b"x")
    ready = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(staged, 1.0, ready))
    holder.start()
    ready.wait()
    with pytest.raises(uploads.Busy) as caught, uploads._locked(staged):
        pass
    assert caught.value.http_status == 423
    holder.join()
