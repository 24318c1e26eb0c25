"""A Redis server of the test's own, to be stopped and started again (a broker outage)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

from tests.conftest import unavailable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """``redis-server`` on a port of its own; ``stop()`` makes the broker unreachable."""

    def __init__(self, workdir: Path) -> None:
        if shutil.which("redis-server") is None:
            unavailable("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_timeout=1).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()  # as a crash would: no goodbye to the clients
            self.proc.wait(timeout=10)
            self.proc = None

    def queued(self) -> int:
        """Return how many messages wait in the broker's queues."""
        client = redis.Redis.from_url(self.url)
        try:
            return sum(int(client.llen(q)) for q in ("transcode", "default"))
        finally:
            client.close()
