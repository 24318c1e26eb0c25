"""tuspy against the real HTTP server, with the connection cut at random offsets."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from tusclient import client as tus_client

from mam.models import Version
from mam.models.catalogue import UploadSession
from mam.runtime import Runtime
from tests.web.test_upload import RecordingQueue, forget_hash_state
from tests.web.tus_helpers import bearer, cut_patch, padded_copy, server_offset, serving


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    app.extensions["mam_queue"] = RecordingQueue()
    with serving(app) as url:
        yield url


@pytest.fixture
def bigger_clip(clip: Path, tmp_path: Path) -> Path:
    """A unique file of some hundreds of KB (a clip with padding appended)."""
    return padded_copy(clip, tmp_path / "长片.mp4", seed=7, pad=400_000)


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
