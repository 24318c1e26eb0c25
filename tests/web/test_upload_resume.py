"""tuspy against the real HTTP server, with the connection cut at random offsets."""

from __future__ import annotations

import hashlib
import http.client
import random
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select
from tusclient import client as tus_client
from werkzeug.serving import make_server

from mam.models import User, Version
from mam.models.catalogue import UploadSession
from mam.runtime import Runtime
from mam.services.tokens import TokenService
from tests.conftest import unique_copy
from tests.web.test_upload import RecordingQueue, forget_hash_state


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    app.extensions["mam_queue"] = RecordingQueue()
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def bigger_clip(clip: Path, tmp_path: Path) -> Path:
    """A unique file of some hundreds of KB (a clip with padding appended)."""
    path = unique_copy(clip, tmp_path / "长片.mp4")
    with path.open("ab") as fh:
        fh.write(random.Random(7).randbytes(400_000))  # noqa: S311 - junk ffprobe ignores
    return path


def bearer(runtime: Runtime) -> dict[str, str]:
    with runtime.db.session() as s:
        user = s.scalar(select(User).where(User.username == "producer"))
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


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tuspy_resumes_after_cuts_at_random_offsets(
    server: str, runtime: Runtime, bigger_clip: Path, seed: int, request: pytest.FixtureRequest
) -> None:
    rng = random.Random(seed)  # noqa: S311
    data = bigger_clip.read_bytes()
    headers = bearer(runtime)
    client = tus_client.TusClient(f"{server}/upload/files", headers=headers)
    metadata = {"filename": bigger_clip.name, "programme": "时代风采", "title": f"断点续传{seed}"}
    stream = bigger_clip.open("rb")  # tuspy leaves files it opens itself unclosed
    request.addfinalizer(stream.close)
    uploader = client.uploader(file_stream=stream, chunk_size=64 * 1024, metadata=metadata)
    uploader.upload(stop_at=rng.randrange(1, len(data) // 4))
    url = uploader.url
    assert url is not None
    upload_id = url.rsplit("/", 1)[1]
    for _ in range(3):
        offset = uploader.offset
        sent = rng.randrange(1, (len(data) - offset) // 2)
        cut_patch(url, headers, data, offset, sent)
        assert server_offset(runtime, upload_id, offset + sent) == offset + sent
        if rng.random() < 0.5:
            forget_hash_state(runtime, upload_id)  # no saved state: re-hash from disk
        # a new client picks the upload up again from the server's offset
        uploader = client.uploader(
            file_stream=stream, chunk_size=64 * 1024, metadata=metadata, url=url
        )
        assert uploader.offset == offset + sent
        uploader.upload(stop_at=min(len(data), uploader.offset + rng.randrange(1, 100_000)))
    uploader.upload()
    with runtime.db.session() as s:
        upload = s.get(UploadSession, upload_id)
        assert upload is not None and upload.version_id is not None, upload and upload.error
        version = s.get(Version, upload.version_id)
        assert version is not None
        expected = hashlib.sha256(data).hexdigest()
        assert version.sha256 == expected
        with runtime.storage.open(version.asset.storage_key) as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == expected
