"""tus uploads on S3 storage (moto over HTTP): every part is streamed as a multipart part."""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select
from tusclient import client as tus_client

from mam import migrate
from mam.models import Role, Version, utcnow
from mam.models.catalogue import UploadSession, UploadState
from mam.runtime import Runtime, build_runtime
from mam.services import upload_bytes, uploads
from mam.services.fingerprints import SAMPLE, fingerprint
from mam.services.users import UserService
from storage.base import StorageError
from tests.conftest import make_settings
from tests.web.test_upload import RecordingQueue, forget_hash_state, meta_header
from tests.web.tus_helpers import bearer, cut_patch, padded_copy, server_offset, serving
from web import create_app

MiB = 1 << 20
pytestmark = pytest.mark.slow


@pytest.fixture
def s3_runtime(
    home: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    monkeypatch.setattr(upload_bytes, "PART_SIZE", 5 * MiB)  # S3's smallest part: several per file
    settings = make_settings(
        home,
        storage_backend="s3",
        s3_bucket=f"up-{uuid.uuid4().hex[:8]}",
        s3_endpoint_url=moto_endpoint,
        s3_create_bucket=True,
    )
    migrate.upgrade(settings.database_url)
    rt = build_runtime(settings)
    with rt.db.session() as s:
        UserService(s).create("producer", "correct horse battery", [Role.PRODUCER])
    yield rt
    rt.close()


@pytest.fixture
def s3_server(s3_runtime: Runtime) -> Iterator[str]:
    app: Flask = create_app({"TESTING": True}, runtime=s3_runtime)
    app.extensions["mam_queue"] = RecordingQueue()
    with serving(app) as url:
        yield url


@pytest.fixture
def twelve_mib(clip: Path, tmp_path: Path) -> Path:
    """A unique media file of 12 MiB and a bit: a few parts and a short last one."""
    return padded_copy(clip, tmp_path / "大文件.mp4", seed=11, total=12 * MiB + 12345)


def open_multiparts(runtime: Runtime) -> list[dict[str, Any]]:
    s3: Any = runtime.storage
    uploads_: list[dict[str, Any]] = s3.client.list_multipart_uploads(Bucket=s3.bucket).get(
        "Uploads", []
    )
    return uploads_


def assert_stored(runtime: Runtime, upload_id: str, data: bytes) -> None:
    expected = hashlib.sha256(data).hexdigest()
    with runtime.db.session() as s:
        upload = s.get(UploadSession, upload_id)
        assert upload is not None and upload.state is UploadState.DONE, upload and upload.error
        assert upload.version_id is not None and upload.multipart_id is None
        sizes = [p["size"] for p in upload.parts or []]
        assert len(sizes) >= 2 and sum(sizes) == len(data)
        assert min(sizes[:-1]) >= 5 * MiB  # S3's rule for all parts but the last
        version = s.get(Version, upload.version_id)
        assert version is not None and version.sha256 == expected
        assert version.asset.media_info["duration"] > 1  # probed through a presigned URL
        sampled = fingerprint(len(data), data[:SAMPLE], data[-SAMPLE:])
        assert version.asset.fingerprint == sampled  # read back from the assembled object
        key = version.asset.storage_key
    assert key == f"originals/{expected}"
    with runtime.storage.open(key) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == expected
    assert not runtime.storage.exists(f"incoming/uploads/{upload_id}")
    assert open_multiparts(runtime) == []
    staging = runtime.settings.upload_staging_dir
    assert not list(staging.iterdir())  # no spool left


def test_tuspy_upload_streams_parts_to_s3(
    s3_server: str, s3_runtime: Runtime, twelve_mib: Path
) -> None:
    data = twelve_mib.read_bytes()
    client = tus_client.TusClient(f"{s3_server}/upload/files", headers=bearer(s3_runtime))
    with twelve_mib.open("rb") as stream:
        uploader = client.uploader(
            file_stream=stream,
            chunk_size=3 * MiB,  # parts span PATCHes: the spool carries bytes across them
            metadata={"filename": twelve_mib.name, "programme": "时代风采", "title": "分片上传"},
        )
        uploader.upload(stop_at=7 * MiB)
        assert uploader.url is not None
        upload_id = uploader.url.rsplit("/", 1)[1]
        with s3_runtime.db.session() as s:
            upload = s.get_one(UploadSession, upload_id)
            # two PATCHes made one part, already in S3; only the rest waits in the spool
            assert [p["size"] for p in upload.parts or []] == [6 * MiB]
            assert upload.offset == 7 * MiB
        spool = s3_runtime.settings.upload_staging_dir / f"{upload_id}.part"
        assert spool.stat().st_size == 1 * MiB
        assert len(open_multiparts(s3_runtime)) == 1
        uploader.upload()
    assert_stored(s3_runtime, upload_id, data)


@pytest.mark.parametrize("seed", [4, 5])
def test_s3_upload_resumes_after_cuts_at_random_offsets(
    s3_server: str, s3_runtime: Runtime, twelve_mib: Path, seed: int
) -> None:
    rng = random.Random(seed)  # noqa: S311
    data = twelve_mib.read_bytes()
    headers = bearer(s3_runtime)
    client = tus_client.TusClient(f"{s3_server}/upload/files", headers=headers)
    metadata = {"filename": twelve_mib.name, "programme": "时代风采", "title": f"续传{seed}"}
    with twelve_mib.open("rb") as stream:
        uploader = client.uploader(file_stream=stream, chunk_size=2 * MiB, metadata=metadata)
        uploader.upload(stop_at=rng.randrange(1, 3 * MiB))
        url = uploader.url
        assert url is not None
        upload_id = url.rsplit("/", 1)[1]
        for _ in range(3):
            offset = uploader.offset
            sent = rng.randrange(1, (len(data) - offset) // 2)
            cut_patch(url, headers, data, offset, sent)  # may cross a part boundary
            assert server_offset(s3_runtime, upload_id, offset + sent) == offset + sent
            uploader = client.uploader(
                file_stream=stream, chunk_size=2 * MiB, metadata=metadata, url=url
            )
            assert uploader.offset == offset + sent
        uploader.upload()
    assert_stored(s3_runtime, upload_id, data)


def test_s3_upload_without_saved_hash_state_must_restart(
    s3_server: str, s3_runtime: Runtime, twelve_mib: Path
) -> None:
    data = twelve_mib.read_bytes()
    client = tus_client.TusClient(f"{s3_server}/upload/files", headers=bearer(s3_runtime))
    with twelve_mib.open("rb") as stream:
        uploader = client.uploader(
            file_stream=stream,
            chunk_size=6 * MiB,
            metadata={"filename": "a.mp4", "programme": "p", "title": "t"},
        )
        uploader.upload(stop_at=6 * MiB)  # one part sent, nothing spooled
        assert uploader.url is not None
        upload_id = uploader.url.rsplit("/", 1)[1]
    forget_hash_state(s3_runtime, upload_id)  # the bytes sent are only in S3 now
    headers = {**bearer(s3_runtime), "Tus-Resumable": "1.0.0"}
    import requests

    r = requests.patch(
        uploader.url,
        data=data[6 * MiB : 7 * MiB],
        headers={**headers, "Upload-Offset": str(6 * MiB),
                 "Content-Type": "application/offset+octet-stream"},
        timeout=30,
    )  # fmt: skip
    assert r.status_code == 409 and "请重新上传" in r.text


def test_cancel_and_expiry_abort_the_multipart_upload(
    s3_server: str, s3_runtime: Runtime, twelve_mib: Path
) -> None:
    client = tus_client.TusClient(f"{s3_server}/upload/files", headers=bearer(s3_runtime))
    ids = []
    for title in ("取消", "过期"):
        with twelve_mib.open("rb") as stream:
            uploader = client.uploader(
                file_stream=stream,
                chunk_size=6 * MiB,
                metadata={"filename": "a.mp4", "programme": "p", "title": title},
            )
            uploader.upload(stop_at=1)
            assert uploader.url is not None
            ids.append(uploader.url.rsplit("/", 1)[1])
    assert len(open_multiparts(s3_runtime)) == 2
    import requests

    r = requests.delete(
        f"{s3_server}/upload/files/{ids[0]}",
        headers={**bearer(s3_runtime), "Tus-Resumable": "1.0.0"},
        timeout=30,
    )
    assert r.status_code == 204
    assert len(open_multiparts(s3_runtime)) == 1
    with s3_runtime.db.session() as s:
        service = uploads.UploadService(
            s, s3_runtime.storage, s3_runtime.settings.upload_staging_dir, max_size=1 << 40
        )
        assert service.expire(utcnow() + timedelta(days=2)) == 1
        assert s.get_one(UploadSession, ids[1]).state is UploadState.EXPIRED
    assert open_multiparts(s3_runtime) == []
    assert not list(s3_runtime.settings.upload_staging_dir.iterdir())


def test_s3_failure_after_the_last_part_leaves_nothing(
    s3_server: str, s3_runtime: Runtime, twelve_mib: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The assembled object cannot be moved to its original key: the upload fails with the
    reason, the object under incoming/ is deleted and no version refers to anything."""
    storage_cls = type(s3_runtime.storage)

    def broken_move(self: object, src: str, dst: str) -> None:
        raise StorageError(f"copy {src} -> {dst}: SlowDown")

    monkeypatch.setattr(storage_cls, "move", broken_move)
    client = tus_client.TusClient(f"{s3_server}/upload/files", headers=bearer(s3_runtime))
    with twelve_mib.open("rb") as stream:
        uploader = client.uploader(
            file_stream=stream,
            chunk_size=6 * MiB,
            metadata={"filename": "失败.mp4", "programme": "时代风采", "title": "存储故障"},
            retries=0,
        )
        with pytest.raises(Exception, match=r"503|SlowDown"):
            uploader.upload()
        assert uploader.url is not None
        upload_id = uploader.url.rsplit("/", 1)[1]
    with s3_runtime.db.session() as s:
        upload = s.get_one(UploadSession, upload_id)
        assert upload.state is UploadState.FAILED and "SlowDown" in (upload.error or "")
        assert s.scalar(select(func.count()).select_from(Version)) == 0
    assert list(s3_runtime.storage.list("")) == []
    assert open_multiparts(s3_runtime) == []
    assert not list(s3_runtime.settings.upload_staging_dir.iterdir())


def test_s3_duplicate_is_refused_by_its_fingerprint_before_any_byte(
    s3_server: str, s3_runtime: Runtime, twelve_mib: Path
) -> None:
    data = twelve_mib.read_bytes()
    client = tus_client.TusClient(f"{s3_server}/upload/files", headers=bearer(s3_runtime))
    meta = {"filename": twelve_mib.name, "programme": "时代风采", "title": "原片"}
    with twelve_mib.open("rb") as stream:
        client.uploader(file_stream=stream, chunk_size=6 * MiB, metadata=meta).upload()
    value = fingerprint(len(data), data[:SAMPLE], data[-SAMPLE:])
    r = requests.post(
        f"{s3_server}/upload/files",
        headers={
            **bearer(s3_runtime),
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(data)),
            "Upload-Metadata": meta_header(**{**meta, "title": "再来一次", "fingerprint": value}),
        },
        timeout=30,
    )
    assert r.status_code == 422 and r.headers["Upload-Duplicate"] == "fingerprint"
    assert 'rel="duplicate"' in r.headers["Link"]
    with s3_runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(UploadSession)) == 1
    assert open_multiparts(s3_runtime) == []  # no multipart upload was started for it
