"""Test helpers: run moto's standalone S3 server in a subprocess.

Example (e.g. in ``tests/conftest.py``)::

    @pytest.fixture(scope="session")
    def moto_endpoint() -> Iterator[str]:
        with pytest.MonkeyPatch.context() as mp:
            for name in AWS_ENV_TO_CLEAR:
                mp.delenv(name, raising=False)
            for name, value in DUMMY_AWS_ENV.items():
                mp.setenv(name, value)
            with moto_server() as url:
                yield url

Only the server process is started here; pytest itself is not imported.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

__all__ = [
    "AWS_ENV_TO_CLEAR",
    "DUMMY_AWS_ENV",
    "GuardedStream",
    "MotoServerError",
    "SourceInterrupted",
    "moto_server",
]

DUMMY_AWS_ENV: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
"""Environment that points boto3 at harmless fake credentials (set it in the test process)."""

AWS_ENV_TO_CLEAR: tuple[str, ...] = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CA_BUNDLE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)
"""Variables that could steer boto3 away from the dummy setup; unset them in tests."""

_START_ATTEMPTS = 3


class MotoServerError(RuntimeError):
    """The moto server could not be started."""


def _free_port(host: str) -> int:
    """Return a TCP port that is currently free on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    """Return whether an HTTP server answers at ``url`` (any status counts)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url + "/moto-api/data.json", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate ``proc`` and reap it, killing it if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _tail(path: Path, limit: int = 2000) -> str:
    """Return the end of the server log for error messages."""
    try:
        return path.read_bytes().decode("utf-8", "replace")[-limit:]
    except OSError:
        return ""


@contextlib.contextmanager
def moto_server(host: str = "127.0.0.1", *, startup_timeout: float = 30.0) -> Iterator[str]:
    """Run ``python -m moto.server`` on a free port of ``host``; yield its URL, stop it on exit."""
    env = {**os.environ, **DUMMY_AWS_ENV}
    with tempfile.TemporaryDirectory(prefix="moto-server-") as logdir:
        log_path = Path(logdir) / "moto.log"
        for _attempt in range(_START_ATTEMPTS):
            port = _free_port(host)
            url = f"http://{host}:{port}"
            with log_path.open("wb") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
            try:
                deadline = time.monotonic() + startup_timeout
                while proc.poll() is None and time.monotonic() < deadline:
                    if _answers(url):
                        break
                    time.sleep(0.1)
                else:
                    if proc.poll() is None:
                        raise MotoServerError(
                            f"moto server did not answer at {url} within {startup_timeout}s:\n"
                            + _tail(log_path)
                        )
                    continue  # exited early (port taken in a race?): try another port
                yield url
                return
            finally:
                _stop(proc)
        raise MotoServerError(f"moto server kept exiting at startup:\n{_tail(log_path)}")


class SourceInterrupted(Exception):
    """Raised by GuardedStream to simulate an upload source failing mid-stream."""


class GuardedStream(io.RawIOBase):
    """Serve bytes sequentially, refusing unbounded or oversized reads; optionally fail midway."""

    def __init__(self, data: bytes, *, max_read: int = 8 << 20, fail_at: int | None = None) -> None:
        """Serve ``data``; raise SourceInterrupted once ``fail_at`` bytes have been served."""
        super().__init__()
        self._data = memoryview(data)
        self._pos = 0
        self._max_read = max_read
        self._fail_at = fail_at
        self.largest_read = 0
        self.reads = 0

    def readable(self) -> bool:
        """Report readable."""
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Return up to ``size`` bytes; AssertionError for read() / read(-1) / too-large reads."""
        if size is None or size < 0:
            raise AssertionError("read() without a size would load the whole stream")
        if size > self._max_read:
            raise AssertionError(f"read({size}) asks for more than {self._max_read} bytes")
        if self._fail_at is not None and self._pos >= self._fail_at:
            raise SourceInterrupted(f"source failed after {self._pos} bytes")
        self.reads += 1
        self.largest_read = max(self.largest_read, size)
        chunk = bytes(self._data[self._pos : self._pos + size])
        self._pos += len(chunk)
        return chunk

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` through :meth:`read`."""
        view = memoryview(buffer).cast("B")
        chunk = self.read(len(view))
        view[: len(chunk)] = chunk
        return len(chunk)

    def as_binary(self) -> BinaryIO:
        """Return self typed as BinaryIO for the storage API."""
        return cast(BinaryIO, self)
