"""Shared pieces of the tus tests: a live server for an app, padded media, tokens, cut PATCHes."""

from __future__ import annotations

import http.client
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from mam.models import User
from mam.models.catalogue import UploadSession
from mam.runtime import Runtime
from mam.services.tokens import TokenService
from tests.conftest import unique_copy


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port (werkzeug, threaded) until the block exits."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(timeout=10)


def padded_copy(clip: Path, path: Path, *, seed: int, pad: int = 0, total: int = 0) -> Path:
    """A unique copy of ``clip`` at ``path`` with ``pad`` random bytes appended (or as
    many as make it ``total`` bytes long): junk after the media that ffprobe ignores."""
    path = unique_copy(clip, path)
    with path.open("ab") as fh:
        fh.write(random.Random(seed).randbytes(pad or total - path.stat().st_size))  # noqa: S311
    return path


def bearer(runtime: Runtime, username: str = "producer") -> dict[str, str]:
    """An Authorization header with a fresh API token of ``username``."""
    with runtime.db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        secret, _ = TokenService(s).issue(user, "tuspy")
    return {"Authorization": f"Bearer {secret}"}


def cut_patch(url: str, headers: dict[str, str], data: bytes, offset: int, send: int) -> None:
    """Start a PATCH for the rest of the file, send ``send`` bytes, then drop the connection."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest("PATCH", parts.path)
        for k, v in {
            **headers,
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(len(data) - offset),
        }.items():
            conn.putheader(k, v)
        conn.endheaders()
        conn.send(data[offset : offset + send])
        conn.sock.shutdown(socket.SHUT_RDWR)  # the network goes away mid-body
    finally:
        conn.close()


def server_offset(runtime: Runtime, upload_id: str, expected: int) -> int:
    """Wait until the server has kept what it received (it commits when the body ends)."""
    deadline = time.monotonic() + 30  # generous: a loaded CI machine, S3 parts
    offset = -1
    while time.monotonic() < deadline:
        with runtime.db.session() as s:
            offset = s.get(UploadSession, upload_id).offset  # type: ignore[union-attr]
        if offset == expected:
            return offset
        time.sleep(0.05)
    return offset
